"""Language identification: the pure rules, the shipped lid.176 model on real texts, the Beam step,
the AI detector's language rule and ``--languages`` through the whole pipeline."""

from __future__ import annotations

import argparse
import json
import shutil
from importlib import resources
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from apache_beam.testing.util import assert_that, equal_to

from conftest import make_test_pipeline
from provsieve.pipeline.options import RunConfig, add_run_arguments, config_from_args
from provsieve.pipeline.report import build_report
from provsieve.pipeline.run import run
from provsieve.pipeline.summary import format_summary
from provsieve.transforms import ai_detector
from provsieve.transforms.ai_detector import AIDetector, TagAIText, ThresholdPolicy, model_languages, supported_language
from provsieve.transforms.ai_detector_training import metrics_rows, trained_languages
from provsieve.transforms.decide import ai_verdict
from provsieve.transforms.document import new_document
from provsieve.transforms.language import (
    KNOWN_CODES,
    MIN_LETTERS,
    UNDETERMINED,
    Language,
    LanguageIdentifier,
    TagLanguage,
    decided_language,
    label_code,
    language_line,
    language_result,
    language_verdict,
    letter_count,
    parse_languages,
)

# Short public-domain lines in their original languages.
TEXTS = {
    "en": "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
          "foolishness, it was the epoch of belief, it was the epoch of incredulity.",
    "de": "Habe nun, ach! Philosophie,\nJuristerei und Medizin,\nUnd leider auch Theologie\n"
          "Durchaus studiert, mit heißem Bemühn.\nDa steh ich nun, ich armer Tor!\nUnd bin so klug als wie zuvor.",
    "es": "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo que vivía un hidalgo "
          "de los de lanza en astillero, adarga antigua, rocín flaco y galgo corredor.",
    "fr": "Ceux qui vivent, ce sont ceux qui luttent ; ce sont ceux dont un dessein ferme emplit l'âme et le front, "
          "ceux qui d'un haut destin gravissent l'âpre cime.",
    "it": "Nel mezzo del cammin di nostra vita mi ritrovai per una selva oscura, ché la diritta via era smarrita.",
    "ru": "Все счастливые семьи похожи друг на друга, каждая несчастливая семья несчастлива по-своему. "
          "Все смешалось в доме Облонских.",
    "ja": "月日は百代の過客にして、行かふ年も又旅人也。舟の上に生涯をうかべ、馬の口とらえて老をむかふる物は、"
          "日々旅にして旅を栖とす。",
    "zh": "床前明月光，疑是地上霜。举头望明月，低头思故乡。春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
}
HAIKU = "古池や蛙飛び込む水の音"  # Bashō: 12 letters, too short to be confident


def _doc(text: str, i: int = 0, **tags):
    return new_document(source_uri="mem://test", source_format="jsonl", source_index=i, text=text, **tags)


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


# --- pure rules ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \n\t\u00a0\u3000\x1cé")), st.integers(min_value=1, max_value=40))
def test_language_line_equals_folding_twice_max_chars(text, max_chars):
    """The short first cut gives what folding the first 2 * max_chars always gave."""
    assert language_line(text, max_chars) == " ".join(text[: 2 * max_chars].split())[:max_chars]


def test_language_line_is_one_line_and_bounded():
    assert language_line("Habe nun,\n ach!\r\n\tPhilosophie ") == "Habe nun, ach! Philosophie"
    assert len(language_line("wort " * 10_000, max_chars=100)) == 100
    assert "\n" not in language_line(TEXTS["de"])


def test_letters_and_labels():
    assert letter_count("abc 123 _ déjà-vu 東京") == 3 + 6 + 2
    long = "1 2 3 " * 100 + "word " * 50
    assert letter_count(long, 20) == letter_count(long) == 200  # no letter in the head: counted in full
    assert 20 <= letter_count("word " * 500, 20) < letter_count("word " * 500) == 2000
    assert label_code("__label__en") == "en" and label_code("ceb") == "ceb"


def test_language_result_rules():
    assert language_result("__label__de", 0.93, 50) == Language("de", 0.93, True)
    assert language_result("__label__de", 0.93, MIN_LETTERS - 1) == Language("de", 0.93, False)  # short
    assert language_result("__label__de", 0.31, 500) == Language("de", 0.31, False)  # uncertain
    assert language_result("__label__de", 1.00001, 50).score == 1.0
    assert language_result("__label__de", 0.9, 0) == Language(UNDETERMINED, None, False)
    assert language_result(None, None, 10) == Language(UNDETERMINED, None, False)


def test_decided_language():
    assert decided_language(_doc("x")) is None
    assert decided_language(_doc("x", language="ja", language_confident=True)) == "ja"
    assert decided_language(_doc("x", language="ja", language_confident=False)) == UNDETERMINED


def test_language_verdict():
    ja = _doc("x", language="ja", language_score=0.99, language_confident=True)
    short = _doc("x", language="en", language_score=0.4, language_confident=False)
    assert language_verdict(ja, None) is ja
    assert language_verdict(ja, ("ja",)) is ja
    rejected = language_verdict(ja, ("de", "en"))
    assert rejected.reject_reason == "language_filtered"
    assert rejected.reject_detail == "language ja 0.99 not in --languages de,en"
    assert language_verdict(short, ("en",)).reject_reason == "language_filtered"
    assert "best guess en 0.40, not confident" in language_verdict(short, ("en",)).reject_detail
    assert language_verdict(short, ("en", UNDETERMINED)) is short
    dup = ja._replace(reject_reason="exact_duplicate")
    assert language_verdict(dup, ("en",)) is dup


def test_parse_languages_validates_codes():
    assert len(KNOWN_CODES) == 177  # lid.176's labels and und
    assert parse_languages("EN, de,en") == ("de", "en")
    assert parse_languages("und,ja") == ("ja", "und")
    with pytest.raises(ValueError, match="unknown language code.*xx"):
        parse_languages("en,xx")
    with pytest.raises(ValueError, match="at least one"):
        parse_languages(" , ")


def test_languages_option():
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    config = config_from_args(parser.parse_args(["--output", "o", "--languages", "en,de"]))
    assert config.languages == ("de", "en")
    assert config_from_args(parser.parse_args(["--output", "o"])).languages is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--output", "o", "--languages", "english"])


# --- the shipped model on real texts --------------------------------------------------------------


def test_shipped_model_and_its_metadata():
    meta = json.loads(resources.files("provsieve.transforms").joinpath("models/lid.176.json").read_text())
    data = resources.files("provsieve.transforms").joinpath("models/lid.176.ftz").read_bytes()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == meta["sha256"] and len(data) == meta["size_bytes"]
    assert meta["licence"] == "CC-BY-SA-3.0" and len(meta["languages"]) == 176


def test_identifies_real_texts(identifier):
    found = identifier.identify(list(TEXTS.values()))
    assert [f.code for f in found] == list(TEXTS)
    assert all(f.confident and f.score > 0.5 for f in found)


def test_short_empty_and_mixed_texts(identifier):
    haiku, empty, digits, mixed = identifier.identify(
        [HAIKU, "", "1234 5678 !!!", TEXTS["de"] + " " + TEXTS["de"] + " Thank you."])
    assert haiku.code == "ja" and not haiku.confident  # best guess kept, not trusted
    assert empty == Language(UNDETERMINED, None, False) and digits == Language(UNDETERMINED, None, False)
    assert mixed.code == "de" and mixed.confident  # the language of most of the text


def test_tag_language_in_a_test_pipeline():
    docs = [_doc(TEXTS["fr"], 0), _doc(HAIKU, 1), _doc(TEXTS["ru"], 2)]
    with make_test_pipeline() as p:
        tagged = p | beam.Create(docs) | TagLanguage(batch_size=2)
        assert_that(tagged | beam.Map(lambda d: (d.source_index, d.language, d.language_confident)),
                    equal_to([(0, "fr", True), (1, "ja", False), (2, "ru", True)]))


# --- the AI detector judges only its languages ----------------------------------------------------


def test_detector_languages_come_from_its_metadata(tmp_path):
    assert ai_detector.SUPPORTED_LANGUAGES == ("en",)
    assert model_languages({"languages": ["en", "de"]}) == ("en", "de") and model_languages({}) is None
    model = tmp_path / "multi.ftz"
    shutil.copyfile(resources.files("provsieve.transforms").joinpath("models/ai_detector.ftz"), model)
    model.with_suffix(".json").write_text(json.dumps({"version": "multi", "languages": ["en", "ja"]}))
    assert AIDetector(str(model)).languages == ("en", "ja")


def test_supported_language_rule():
    en = _doc("x", language="en", language_confident=True)
    assert supported_language(en, ("en",))
    assert not supported_language(en._replace(language="ja"), ("en",))
    assert not supported_language(en._replace(language_confident=False), ("en",))  # und
    assert supported_language(en._replace(language="ja"), None)  # a model that records no languages
    assert supported_language(_doc("x"), ("en",))  # no language step: judged as before


def test_unsupported_language_is_never_rejected_as_ai():
    long_en = " ".join([TEXTS["en"]] * 3)
    docs = [_doc(long_en, 0, language="en", language_confident=True),
            _doc(long_en, 1, language="ja", language_confident=True),
            _doc(long_en, 2, language="en", language_confident=False)]
    with make_test_pipeline() as p:
        tagged = p | beam.Create(docs) | TagAIText()
        verdicts = tagged | beam.Map(ai_verdict, ThresholdPolicy.constant(0.0), "none")  # threshold 0: every judged document is AI
        assert_that(verdicts | beam.Map(lambda d: (d.source_index, d.ai_confident, d.reject_reason,
                                                   d.ai_score is not None)),
                    equal_to([(0, True, "ai_generated", True), (1, False, None, True), (2, False, None, True)]))


def test_trained_languages_from_training_texts():
    kept, counts = trained_languages(["en"] * 197 + ["de", "und", "und"])  # de: 0.5 %, under 1 %
    assert kept == ["en"] and counts == {"en": 197, "und": 2, "de": 1}
    assert trained_languages(["en"] * 90 + ["de"] * 10)[0] == ["de", "en"]
    assert ai_detector._SHIPPED_METADATA["languages"] == ["en"]


def test_eval_metrics_per_language():
    records = [{"label": lab, "source": "s", "generator": "g", "domain": "d", "language": lang}
               for lab, lang in [("human", "en"), ("ai", "en"), ("human", "ja"), ("ai", "ja")]]
    rows = {r.group: r for r in metrics_rows(records, [0.1, 0.9, 0.8, 0.2], 0.5)}
    assert rows["language=en"].auroc == 1.0 and rows["language=ja"].auroc == 0.0
    assert rows["language=ja"].n_human == 1


# --- the whole pipeline ----------------------------------------------------------------------------


def _corpus(tmp_path: Path) -> str:
    rows = [{"text": text, "url": f"https://{lang}.example/{i}"}
            for i, (lang, text) in enumerate(list(TEXTS.items()) + [("ja", HAIKU)])]
    rows.append({"text": TEXTS["de"], "url": "https://de.example/copy"})  # an exact copy
    rows.append({"text": "", "url": "https://empty.example/"})  # rejected while reading
    path = tmp_path / "in" / "docs.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def language_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lang")
    source = _corpus(tmp)
    every = run(RunConfig(inputs=(source,), output=str(tmp / "all")))
    filtered = run(RunConfig(inputs=(source,), output=str(tmp / "en_de"), languages=("de", "en")))
    return tmp, every, filtered


def test_every_language_kept_by_default_and_counted(language_runs):
    tmp, manifest, _ = language_runs
    assert manifest["counters"]["balanced"] and manifest["counters"]["kept"] == 9
    by_lang = manifest["documents_by_language"]
    assert by_lang["de"] == {"documents": 2, "kept": 1, "rejected": {"exact_duplicate": 1}}
    assert by_lang["und"] == {"documents": 1, "kept": 1, "rejected": {}}  # the haiku
    assert by_lang["none"] == {"documents": 1, "kept": 0, "rejected": {"empty_text": 1}}
    assert sum(e["documents"] for e in by_lang.values()) == manifest["counters"]["input_records"]
    # Every scored non-English document is left unjudged, counted by its language; English is judged.
    assert manifest["ai_unsupported_language"] == {"de": 1, "es": 1, "fr": 1, "it": 1, "ja": 1, "ru": 1,
                                                   "und": 1, "zh": 1}
    rows = pq.read_table(tmp / "all" / "human").to_pylist()
    assert {r["language"]: r["ai_confident"] for r in rows if r["language_confident"]} == {
        "en": True, "de": False, "es": False, "fr": False, "it": False, "ru": False, "ja": False, "zh": False}
    assert manifest["language_model"]["licence"] == "CC-BY-SA-3.0"
    assert manifest["ai_model"]["languages"] == ["en"]


def test_languages_option_filters_and_counts_per_language(language_runs):
    tmp, _, manifest = language_runs
    c = manifest["counters"]
    assert c["balanced"] and c["kept"] == 2 and c["rejected"]["language_filtered"] == 7
    by_lang = manifest["documents_by_language"]
    assert {k: v["rejected"].get("language_filtered", 0) for k, v in by_lang.items()} == {
        "de": 0, "en": 0, "es": 1, "fr": 1, "it": 1, "ja": 1, "ru": 1, "und": 1, "zh": 1, "none": 0}
    assert by_lang["de"]["rejected"] == {"exact_duplicate": 1}  # the copy is still found among German pages
    language_stage = next(s for s in manifest["stages"] if s["stage"] == "language")
    assert language_stage["rejected"] == {"language_filtered": 7} and language_stage["in"] == 10
    rejected = pq.read_table(tmp / "en_de" / "rejected").to_pylist()
    details = {r["url"]: r["reject_detail"] for r in rejected if r["reject_reason"] == "language_filtered"}
    assert details["https://ja.example/6"].startswith("language ja ") and details["https://ja.example/6"].endswith(
        "not in --languages de,en")
    assert "best guess ja" in details["https://ja.example/8"]
    assert manifest["policy"]["languages"] == ["de", "en"]


def test_summary_and_report_show_languages(language_runs):
    tmp, every, filtered = language_runs
    summary = format_summary(every)
    assert "languages (documents): de 2, en 1," in summary
    assert "AI not judged for their language: 8 (" in summary
    page = build_report(str(tmp / "en_de"))
    assert 'id="languages"' in page and "language_filtered 1" in page and "Language filter" in page
    page = build_report(str(tmp / "all"))
    assert "8 scored documents were not judged for their language" in page
    # the AI histograms count only the judged (English) document
    assert "1 scored documents" in page


def test_verify_checks_the_language_counts(language_runs):
    from provsieve.pipeline.verify import check_counters

    _, manifest, _ = language_runs
    assert check_counters(manifest).ok
    broken = json.loads(json.dumps(manifest))
    broken["documents_by_language"]["en"]["documents"] += 1
    check = check_counters(broken)
    assert not check.ok and "documents by language sum to 12, not 11" in " ".join(check.problems)


def test_tag_mode_keeps_filtered_languages_with_their_reason(tmp_path):
    manifest = run(RunConfig(inputs=(_corpus(tmp_path),), output=str(tmp_path / "tag"), mode="tag",
                             languages=("en",), ai=False))
    assert manifest["counters"]["balanced"] and manifest["counters"]["rejected"] == {"empty_text": 1}
    rows = pq.read_table(tmp_path / "tag" / "human").to_pylist()
    reasons = sorted(r["reject_reason"] or "-" for r in rows)
    assert reasons.count("language_filtered") == 9 and reasons.count("-") == 1  # the copy is filtered, not a dup
