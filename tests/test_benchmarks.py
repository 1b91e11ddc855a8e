"""The benchmark entry point runs and writes its Markdown (figures are not asserted here)."""

from __future__ import annotations

from benchmarks.__main__ import main


def test_benchmarks_quality_and_speed_sections_write_markdown(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    assert main(["quality", "speed", "--repeat", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| regenbot matcher |" in text and "rapidfuzz extractOne (WRatio)" in text
    assert "questions/s" in text and "Knowledge base load" in text


def test_unknown_section_is_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["nonsense"])
    assert "unknown section" in capsys.readouterr().err
