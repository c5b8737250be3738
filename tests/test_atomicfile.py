"""Small files are replaced whole: old or new content, never half, nothing left behind."""
import os

import pytest

from gastown_tui.atomicfile import write_atomic


def test_replaces_content_and_keeps_permissions(tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("old\n")
    os.chmod(script, 0o755)
    write_atomic(script, "new\n")
    assert script.read_text() == "new\n"
    assert script.stat().st_mode & 0o777 == 0o755
    fresh = tmp_path / "sub" / "fresh.json"
    write_atomic(fresh, b"{}\n")
    assert fresh.read_bytes() == b"{}\n" and fresh.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.sh", "sub"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "settings.json"
    target.write_text('{"keep": true}\n')
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # not text: fails inside the write
    assert target.read_text() == '{"keep": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_text_chunks_are_streamed_and_raw_bytes_read_with_surrogateescape_come_back(tmp_path):
    target = tmp_path / ".beads" / "issues.jsonl"
    raw = b'{"id":"bd-1","title":"caf\xe9"}\n'            # not UTF-8: kept byte for byte
    text = raw.decode("utf-8", errors="surrogateescape")
    write_atomic(target, iter([text, '{"id":"bd-2"}\n']), sync_dir=True)
    assert target.read_bytes() == raw + b'{"id":"bd-2"}\n'
    assert [p.name for p in target.parent.iterdir()] == ["issues.jsonl"]
