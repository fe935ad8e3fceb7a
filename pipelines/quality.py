"""The asset check `quality_thresholds` on `warehouse/exports`: does every source meet the
thresholds its declaration sets (`registry.QualityThresholds`)?

It reads the verdict the release's scorecard (`quality.json`, `pipelines.publish.quality`)
already holds, so the check, the file and the page never disagree. A breach fails the check
with severity WARN: Dagster shows it, the page marks it, and the night goes on (the check is
not blocking; a source that could not be fetched at all is `stale_sources`' business).
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from pipelines.publish.quality import QUALITY_FILE, breached, read_quality
from pipelines.publish.release import read_latest
from pipelines.resources import WarehouseResource

QUALITY_THRESHOLDS = "quality_thresholds"
EXPORTS_KEY = AssetKey(["warehouse", "exports"])


def quality_verdict(report: dict | None, where: str) -> AssetCheckResult:
    """The check's result for a release's scorecard (None: the release has none)."""
    if report is None:
        return AssetCheckResult(
            check_name=QUALITY_THRESHOLDS, passed=False, severity=AssetCheckSeverity.WARN,
            description=f"no {QUALITY_FILE} in {where}: the scorecard was not written")
    breaches = breached(report)
    totals = report["totals"]
    metadata = {"release": report["release"], "judged_sources": totals["judged"],
                "live_only_sources": totals["live_only"], "breaches": len(breaches)}
    if not breaches:
        return AssetCheckResult(
            check_name=QUALITY_THRESHOLDS, passed=True, severity=AssetCheckSeverity.WARN,
            metadata=metadata,
            description=f"every source within its thresholds ({totals['judged']} judged, "
                        f"{totals['live_only']} live only)")
    names = sorted({f"{source}.{b['threshold']}" for source, b in breaches})
    return AssetCheckResult(
        check_name=QUALITY_THRESHOLDS, passed=False, severity=AssetCheckSeverity.WARN,
        description="quality thresholds breached: " + "; ".join(
            f"{source}: {b['detail']}" for source, b in breaches),
        metadata={**metadata, "breached": ", ".join(names),
                  "details": MetadataValue.md("\n".join(
                      f"- **{source}** `{b['threshold']}`: {b['detail']}"
                      for source, b in breaches))})


@asset_check(asset=EXPORTS_KEY, name=QUALITY_THRESHOLDS,
             description="Every source meets the quality thresholds its declaration sets "
                         "(quarantine share, valid ИНН/ОГРН, fetch age, key-field coverage); "
                         "a breach warns, it does not stop the night.")
def quality_thresholds(context: AssetCheckExecutionContext,
                       warehouse: WarehouseResource) -> AssetCheckResult:
    release = read_latest(warehouse.paths().exports_dir)
    if release is None:
        return quality_verdict(None, str(warehouse.paths().exports_dir))
    verdict = quality_verdict(read_quality(release), str(release))
    if not verdict.passed:
        context.log.warning(verdict.description or "")
    return verdict
