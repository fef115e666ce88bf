"""The pipeline builds for distributed runners and translates to the portable Runner API, without running."""

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from provsieve.pipeline.options import RunConfig
from provsieve.pipeline.run import build_pipeline

RUNNER_ARGS = {
    "dataflow": ["--runner=DataflowRunner", "--project=example-project", "--region=europe-west1",
                 "--temp_location=gs://example-bucket/tmp"],
    "flink": ["--runner=FlinkRunner", "--flink_master=localhost:8081", "--environment_type=DOCKER"],
    "spark": ["--runner=SparkRunner", "--spark_master_url=spark://localhost:7077", "--environment_type=DOCKER"],
}


@pytest.mark.parametrize("runner,calibrate,detector", [(r, False, "fasttext") for r in sorted(RUNNER_ARGS)]
                         + [("dataflow", True, "fasttext"), ("dataflow", False, "cascade")])
def test_pipeline_translates_to_the_runner_api(runner, calibrate, detector):
    config = RunConfig(inputs=("gs://example-bucket/crawl/*.warc.gz",), output="gs://example-bucket/out",
                       calibrate_fpr=0.01 if calibrate else None, ai_detector=detector)
    p = beam.Pipeline(options=PipelineOptions(RUNNER_ARGS[runner]))
    build_pipeline(p, config, "gs://example-bucket/out/_staging")
    proto = p.to_runner_api()  # pickles every DoFn and side input
    urns = {t.spec.urn for t in proto.components.transforms.values() if t.spec.urn}
    assert "beam:transform:group_by_key:v1" in urns
    assert all(u.startswith("beam:") for u in urns), urns
    again = beam.Pipeline.from_runner_api(proto, p.runner, p.options)
    assert again is not None


def test_pipeline_after_earlier_releases_translates_to_the_runner_api():
    """``--after``: the earlier indexes are read by Create + ParDo and joined in the shuffles, no side input."""
    config = RunConfig(inputs=("gs://example-bucket/crawl/*.warc.gz",), output="gs://example-bucket/out",
                       after=("gs://example-bucket/releases/*",))
    planned = {"released_index_files": [("gs://example-bucket/releases/w1/index/part-00000-of-00001.parquet",
                                          "gs://example-bucket/releases/w1")]}
    p = beam.Pipeline(options=PipelineOptions(RUNNER_ARGS["dataflow"]))
    build_pipeline(p, config, "gs://example-bucket/out/_staging", planned)
    proto = p.to_runner_api()
    names = [t.unique_name for t in proto.components.transforms.values()]
    assert any("Released index" in n for n in names) and any("Write index" in n for n in names)
    released = [t for t in proto.components.transforms.values() if t.unique_name.endswith("Released index/Parts")]
    assert released and not any(t.inputs.keys() - {"None"} for t in released)  # no side input of the index
    assert beam.Pipeline.from_runner_api(proto, p.runner, p.options) is not None


def _side_inputs(proto) -> list[tuple[str, str]]:
    """``(transform, access pattern)`` of every side input a ParDo of the pipeline reads."""
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2

    found = []
    for transform in proto.components.transforms.values():
        if transform.spec.urn != common_urns.primitives.PAR_DO.urn:
            continue
        payload = beam_runner_api_pb2.ParDoPayload.FromString(transform.spec.payload)
        for side in payload.side_inputs.values():
            found.append((transform.unique_name, side.access_pattern.urn))
    return found


@pytest.mark.parametrize("detector,calibrate,after", [("fasttext", False, False), ("cascade", True, True)])
def test_no_side_input_grows_with_the_corpus(detector, calibrate, after):
    """Verdicts about documents meet them in shuffles; the only side inputs hold a number or a list per shard.

    A side input is held whole by every worker: the de-duplication verdicts of a
    billion pages would not fit, so none may be one (no ``AsDict``/multimap access).
    """
    config = RunConfig(inputs=("gs://example-bucket/crawl/*.warc.gz",), output="gs://example-bucket/out",
                       calibrate_fpr=0.01 if calibrate else None, ai_detector=detector,
                       after=("gs://example-bucket/releases/*",) if after else ())
    planned = {"released_index_files": [("gs://example-bucket/releases/w1/index/part-00000-of-00001.parquet",
                                          "gs://example-bucket/releases/w1")]} if after else None
    p = beam.Pipeline(options=PipelineOptions(RUNNER_ARGS["dataflow"]))
    build_pipeline(p, config, "gs://example-bucket/out/_staging", planned)
    sides = _side_inputs(p.to_runner_api())
    assert not [s for s in sides if "multimap" in s[1]], sides
    readers = {name.split("/")[0] for name, _ in sides}
    # the threshold (one number, calibrated in rounds of bounded histograms), each writer's shard count (one number)
    # and the publisher (one row per shard)
    assert readers <= {"AI decision", "Calibrate", "Write human", "Write rejected", "Write index", "Publish"}, sides
