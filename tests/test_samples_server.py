from scrapers.http import HttpClient
from scrapers.rawstore import RawStore
from scrapers.samples import sample_relpath
from scrapers.samples_server import serve_samples


def test_sample_layout_by_host_and_path():
    assert str(sample_relpath("https://h.example/a/b?page=2")) == "h.example/a/b@page=2"
    assert str(sample_relpath("https://h.example/dir/")) == "h.example/dir/index.html"
    assert sample_relpath("https://h.example/p?q=%D0%B0") == sample_relpath("https://h.example/p?q=а")


def test_loopback_server_serves_samples_through_the_client(tmp_path):
    root = tmp_path / "samples"
    (root / "h.example" / "x").mkdir(parents=True)
    (root / "h.example" / "x" / "page@n=1").write_text("<html>один</html>", encoding="utf-8")
    with serve_samples(root) as host_map:
        assert set(host_map) == {"h.example"}
        client = HttpClient(RawStore(tmp_path / "raw"), allowed_hosts={"h.example"},
                            host_map=host_map, min_interval=0)
        got = client.get("https://h.example/x/page?n=1", source="s")
        again = client.get("https://h.example/x/page?n=1", source="s")
    assert got.body.decode() == "<html>один</html>"
    assert got.content_type.startswith("text/html")
    assert again.not_modified and again.sha256 == got.sha256


def test_path_outside_samples_is_not_served(tmp_path):
    import requests

    root = tmp_path / "samples"
    (root / "h.example").mkdir(parents=True)
    (tmp_path / "secret").write_text("no")
    with serve_samples(root) as host_map:
        addr = host_map["h.example"]
        r = requests.get(f"http://{addr}/../../secret", headers={"Host": "h.example"}, timeout=5)
    assert r.status_code == 404
