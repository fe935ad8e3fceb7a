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


def test_a_folder_may_link_another_folders_host_but_no_url_climbs_out(tmp_path):
    import requests

    real = tmp_path / "real" / "h.example"
    real.mkdir(parents=True)
    (real / "doc.csv").write_text("a,b\n", encoding="utf-8")
    root = tmp_path / "fixtures"
    root.mkdir()
    (root / "h.example").symlink_to(real, target_is_directory=True)
    with serve_samples(root) as host_map:
        addr = host_map["h.example"]
        ok = requests.get(f"http://{addr}/doc.csv", headers={"Host": "h.example"}, timeout=5)
        out = requests.get(f"http://{addr}/../real/h.example/doc.csv",
                           headers={"Host": "h.example"}, timeout=5)
    assert ok.status_code == 200 and ok.text == "a,b\n"
    assert out.status_code == 404


def test_samples_hold_real_documents_and_fixtures_say_they_are_invented():
    from scrapers.samples import FIXTURES_DIR, SAMPLES_DIR

    hosts = {p.name for p in SAMPLES_DIR.iterdir() if p.is_dir()}
    assert hosts == {"grants.oprf.ru", "raw.githubusercontent.com", "www.xn--67-1lclg.xn--p1ai",
                     "curated.socfund.invalid", "programmes.socfund.invalid"}
    assert not (SAMPLES_DIR / "ILLUSTRATIVE").exists()
    marker = (FIXTURES_DIR / "ILLUSTRATIVE").read_text(encoding="utf-8")
    assert "Invented documents" in marker and "tests and demonstrations" in marker
    readme = (SAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    for host in hosts:
        assert f"## {host}" in readme, host
