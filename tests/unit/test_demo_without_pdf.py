"""The demo still runs where WeasyPrint's system libraries (Pango) are missing: HTML letters."""

from __future__ import annotations

import pytest

from erp_recovery.cli.main import main


def test_demo_writes_html_letters_when_pdf_rendering_is_unavailable(tmp_path, monkeypatch, capsys):
    reason = "WeasyPrint cannot load its system libraries (libpango-1.0-0 missing)"
    monkeypatch.setattr("erp_recovery.dunning_ops.demo_stage.pdf_unavailable", lambda: reason)
    assert main(["--db", str(tmp_path / "erp-recovery-demo.sqlite"), "demo"]) == 0
    out = capsys.readouterr().out
    assert "letters written as HTML, not PDF" in out
    letters = sorted(path.name for path in (tmp_path / "erp-recovery-demo-dunning").glob("C*.*"))
    assert letters and all(name.endswith(".html") for name in letters)
    page = (tmp_path / "erp-recovery-demo-dunning" / letters[0]).read_text(encoding="utf-8")
    assert "<html" in page.lower()


@pytest.mark.parametrize("missing", [OSError("cannot load library 'libgobject-2.0-0'")])
def test_missing_pango_is_a_clear_error_naming_the_packages(monkeypatch, missing):
    import builtins

    from erp_recovery.dunning_docs import render

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "weasyprint":
            raise missing
        return real_import(name, *args, **kwargs)

    render._weasyprint.cache_clear()
    monkeypatch.setattr(builtins, "__import__", fake_import)
    try:
        assert "libpango-1.0-0" in (render.pdf_unavailable() or "")
    finally:
        monkeypatch.undo()
        render._weasyprint.cache_clear()
