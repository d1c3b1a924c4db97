"""The file tools (read, write, edit, apply_patch) through real agent turns:
happy paths and hostile input - paths escaping the workspace (.., absolute,
symlinked files and directories), huge, binary and image files, edits that
miss or match twice, malformed patches, and a patch that fails halfway and
must leave every file untouched."""
import base64
import os

from agentkit import config, connected_tools, fake, tool_turn  # noqa: F401

FS_CONFINED = 'tools: { fs: { workspaceOnly: true } },'

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
       b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe"
       b"\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def test_read_text_and_pages(penv, gateway, fake):
    ws = config(penv, fake)
    (ws / "a.txt").write_text("alpha\nbeta\ngamma\n")
    (ws / "crlf.txt").write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n")
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "read", {"path": "a.txt"})
        assert not r["isError"] and r["text"] == "alpha\nbeta\ngamma\n"
        r = tool_turn(c, fake, "read", {"path": "a.txt", "offset": 2, "limit": 1})
        assert r["text"] == "beta\n\n[1 more line in file. Use offset=3 to continue.]"
        r = tool_turn(c, fake, "read", {"path": str(ws / "crlf.txt")})
        assert r["text"] == "one\ntwo\n"
        r = tool_turn(c, fake, "read", {"path": "a.txt", "offset": 9})
        assert "Offset 9 is beyond end of file (3 lines total)" in r["text"]
        r = tool_turn(c, fake, "read", {"path": "a.txt", "offset": 0})
        assert r["isError"] and "Offset must be an integer at least 1" in r["text"]
        r = tool_turn(c, fake, "read", {"path": "nope.txt"})
        assert r["isError"] and "File not found" in r["text"]
        r = tool_turn(c, fake, "read", {"path": "memory/nope.md", "optional": True})
        assert not r["isError"] and "Optional file not found" in r["text"]
        r = tool_turn(c, fake, "read", {"path": "."})
        assert r["isError"] and "is a directory" in r["text"]


def test_read_huge_file_paginates(penv, gateway, fake):
    ws = config(penv, fake)
    line = "x" * 99 + "\n"
    with open(ws / "huge.txt", "w") as f:  # ~200 MB: read must stream it, not load it
        for _ in range(20):
            f.write(line * 100000)
    (ws / "longline.txt").write_text("y" * 200000)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "read", {"path": "huge.txt"}, timeout=120)
        assert not r["isError"]
        body, _, notice = r["text"].partition("\n\n[")
        assert len(body.encode()) <= 51200 and body.startswith("x" * 99 + "\n")
        n = body.count("\n") + 1
        assert notice == "Read output capped at 50KB for this call. Use offset=%d to continue.]" % (n + 1)
        r = tool_turn(c, fake, "read", {"path": "huge.txt", "offset": 1999999, "limit": 5},
                      timeout=120)
        assert r["text"] == line * 2
        # One line longer than the page: continued by cursor.
        r = tool_turn(c, fake, "read", {"path": "longline.txt"})
        body, _, notice = r["text"].partition("\n\n[")
        assert set(body) == {"y"}
        assert "Use offset=1, cursor=%d to continue." % len(body) in notice
        r = tool_turn(c, fake, "read", {"path": "longline.txt", "cursor": 199990})
        assert r["text"] == "y" * 10


def vision_config(penv, fake, **kw):
    """config() with the fake model accepting images."""
    ws = config(penv, fake, **kw)
    p = penv.state / "pincer.json"
    p.write_text(p.read_text().replace("maxTokens: 4096 }",
                                       'maxTokens: 4096, input: ["text", "image"] }'))
    return ws


def test_read_binary_and_image(penv, gateway, fake):
    ws = vision_config(penv, fake)
    (ws / "blob.bin").write_bytes(bytes(range(256)) * 10)
    (ws / "pic.dat").write_bytes(PNG)  # detected by magic bytes, not the name
    (ws / "big.png").write_bytes(PNG + b"\0" * (6 * 1024 * 1024))
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "read", {"path": "blob.bin"})
        assert r["isError"] and "binary file" in r["text"]
        r = tool_turn(c, fake, "read", {"path": "pic.dat"})
        assert not r["isError"]
        assert r["text"] == "Read image file [image/png]"
        img = [b for b in r["result"] if b.get("type") == "image"]
        assert img and img[0]["mimeType"] == "image/png"
        assert base64.b64decode(img[0]["data"]) == PNG
        r = tool_turn(c, fake, "read", {"path": "big.png"})
        assert "not attached" in r["text"]
        assert not [b for b in r["result"] if b.get("type") == "image"]


def test_read_image_text_only_model(penv, gateway, fake):
    ws = config(penv, fake)
    (ws / "pic.png").write_bytes(PNG)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "read", {"path": "pic.png"})
        assert "Current model does not support images" in r["text"]
        assert not [b for b in r["result"] if b.get("type") == "image"]


def test_confinement_escapes(penv, gateway, fake, tmp_path):
    ws = config(penv, fake, top=FS_CONFINED)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n")
    (ws / "inside.txt").write_text("fine\n")
    os.symlink(outside / "secret.txt", ws / "link.txt")
    os.symlink(outside, ws / "linkdir")
    os.symlink(outside / "not-yet.txt", ws / "dangling.txt")
    (ws / "sub").mkdir()
    os.symlink("../inside.txt", ws / "sub" / "ok-link.txt")  # a link inside is fine
    g = gateway()
    with connected_tools(g.port) as c:
        for p in ["../outside/secret.txt", str(outside / "secret.txt"), "sub/../../x",
                  "/etc/passwd", "~/x.txt"]:
            r = tool_turn(c, fake, "read", {"path": p})
            assert r["isError"] and "Path escapes sandbox root" in r["text"], (p, r)
        for p in ["link.txt", "linkdir/secret.txt"]:
            r = tool_turn(c, fake, "read", {"path": p})
            assert r["isError"] and "Symlink escapes sandbox root" in r["text"], (p, r)
            assert "top secret" not in r["text"]
        r = tool_turn(c, fake, "read", {"path": "sub/ok-link.txt"})
        assert r["text"] == "fine\n"
        # Writes through a symlinked dir, or to a dangling link pointing out: refused.
        for p in ["linkdir/new.txt", "dangling.txt", "linkdir/deep/er/new.txt"]:
            r = tool_turn(c, fake, "write", {"path": p, "content": "pwned"})
            assert r["isError"] and "escapes sandbox root" in r["text"], (p, r)
        r = tool_turn(c, fake, "edit", {"path": "link.txt",
                                        "edits": [{"oldText": "top", "newText": "x"}]})
        assert r["isError"] and "Symlink escapes" in r["text"]
        r = tool_turn(c, fake, "apply_patch", {"input": "*** Begin Patch\n*** Add File: "
                                               "linkdir/p.txt\n+x\n*** End Patch"})
        assert r["isError"] and "Symlink escapes" in r["text"]
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "top secret\n"


def test_apply_patch_confined_by_default(penv, gateway, fake, tmp_path):
    config(penv, fake)  # tools.fs.workspaceOnly unset: read may leave, apply_patch may not
    (tmp_path / "o.txt").write_text("out\n")
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "read", {"path": str(tmp_path / "o.txt")})
        assert r["text"] == "out\n"
        r = tool_turn(c, fake, "apply_patch", {"input": "*** Begin Patch\n*** Delete File: %s\n"
                                               "*** End Patch" % (tmp_path / "o.txt")})
        assert r["isError"] and "Path escapes sandbox root" in r["text"]
    assert (tmp_path / "o.txt").exists()


def test_write(penv, gateway, fake):
    ws = config(penv, fake)
    (ws / "exe.sh").write_text("old")
    os.chmod(ws / "exe.sh", 0o755)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "write", {"path": "a/b/c/new.txt", "content": "héllo\n"})
        assert not r["isError"] and r["text"] == "Successfully wrote 7 bytes to a/b/c/new.txt"
        r = tool_turn(c, fake, "write", {"path": "exe.sh", "content": "#!/bin/sh\n"})
        assert not r["isError"]
        r = tool_turn(c, fake, "write", {"path": "exe.sh", "content": "#!/bin/sh\n"})
        assert "No changes made to exe.sh" in r["text"]
        r = tool_turn(c, fake, "write", {"path": "a", "content": "x"})
        assert r["isError"] and "directory" in r["text"]
    assert (ws / "a/b/c/new.txt").read_text() == "héllo\n"
    assert (ws / "exe.sh").read_text() == "#!/bin/sh\n"
    assert os.stat(ws / "exe.sh").st_mode & 0o777 == 0o755


def test_edit(penv, gateway, fake):
    ws = config(penv, fake)
    (ws / "f.py").write_text("def f():\n    return 1\n\ndef g():\n    return 1\n")
    (ws / "w.txt").write_bytes(b"a = 1\r\nb = 2\r\n")
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "edit", {"path": "f.py", "edits": [
            {"oldText": "def f():\n    return 1", "newText": "def f():\n    return 2"}]})
        assert not r["isError"] and r["text"] == "Successfully replaced 1 block(s) in f.py."
        r = tool_turn(c, fake, "edit", {"path": "f.py", "edits": [
            {"oldText": "return 1", "newText": "return 3"}, {"oldText": "nope", "newText": "x"}]})
        assert r["isError"] and "Could not find edits[1] in f.py" in r["text"]
        r = tool_turn(c, fake, "edit", {"path": "f.py", "oldText": "return", "newText": "yield"})
        assert r["isError"] and "Found 2 occurrences of the text in f.py" in r["text"]
        r = tool_turn(c, fake, "edit", {"path": "f.py", "edits": [
            {"oldText": "  return 2", "newText": "  return 5"}]})
        assert not r["isError"]
        r = tool_turn(c, fake, "edit", {"path": "f.py", "edits": [
            {"oldText": "\treturn 1", "newText": "x"}]})
        assert r["isError"]
        assert "must match exactly including all whitespace" in r["text"]
        assert "Closest matching lines:" in r["text"]
        assert "hint: indentation differs (expected 0 spaces and 1 tabs, found 4 spaces)" \
            in r["text"]
        assert "Current file contents:" in r["text"]
        # Claude-style aliases; CRLF kept.
        r = tool_turn(c, fake, "edit", {"file_path": "w.txt", "old_string": "b = 2\n",
                                        "new_string": "b = 3\nc = 4\n"})
        assert not r["isError"], r
    assert (ws / "f.py").read_text() == "def f():\n    return 5\n\ndef g():\n    return 1\n"
    assert (ws / "w.txt").read_bytes() == b"a = 1\r\nb = 3\r\nc = 4\r\n"


def test_apply_patch_all_operations(penv, gateway, fake):
    ws = config(penv, fake)
    (ws / "upd.txt").write_text("one\ntwo\nthree\n")
    (ws / "mv.txt").write_text("keep\nold\n")
    (ws / "del.txt").write_text("bye\n")
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "apply_patch", {"input": """*** Begin Patch
*** Add File: new/dir/added.txt
+hello
+world
*** Update File: upd.txt
@@
 one
-two
+TWO
 three
*** Update File: mv.txt
*** Move to: moved/mv2.txt
@@
 keep
-old
+new
*** Delete File: del.txt
*** End Patch
"""})
        assert not r["isError"], r
        assert r["text"] == ("Success. Updated the following files:\nA new/dir/added.txt\n"
                             "M upd.txt\nM moved/mv2.txt\nD del.txt")
    assert (ws / "new/dir/added.txt").read_text() == "hello\nworld\n"
    assert (ws / "upd.txt").read_text() == "one\nTWO\nthree\n"
    assert (ws / "moved/mv2.txt").read_text() == "keep\nnew\n"
    assert not (ws / "mv.txt").exists() and not (ws / "del.txt").exists()


def test_apply_patch_malformed_and_atomic(penv, gateway, fake):
    ws = config(penv, fake)
    (ws / "a.txt").write_text("a1\na2\n")
    (ws / "b.txt").write_text("b1\nb2\n")
    before = {p: (ws / p).read_bytes() for p in ("a.txt", "b.txt")}
    g = gateway()
    bad = {
        "*** Update File: a.txt\n@@\n-a1\n+A1\n*** End Patch": "must be '*** Begin Patch'",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n-a1\n+A1\n": "must be '*** End Patch'",
        "*** Begin Patch\n*** Patch File: a.txt\n*** End Patch": "is not a valid hunk header",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n-a1\n+A1\n@@ a2\n?what\n*** End Patch":
            "Unexpected line found in update hunk",
        "*** Begin Patch\n*** End Patch": "No files were modified.",
        # First file fine, second hunk's context missing: nothing may change.
        "*** Begin Patch\n*** Update File: a.txt\n@@\n-a1\n+A1\n*** Add File: c.txt\n+c\n"
        "*** Update File: b.txt\n@@\n-zzz\n+b\n*** End Patch":
            "Failed to find expected lines in b.txt",
        "*** Begin Patch\n*** Delete File: a.txt\n*** Add File: b.txt\n+x\n*** End Patch":
            "Cannot create b.txt: the file already exists",
        "*** Begin Patch\n*** Delete File: a.txt\n*** Delete File: gone.txt\n*** End Patch":
            "Cannot delete gone.txt",
    }
    with connected_tools(g.port) as c:
        for text, why in bad.items():
            r = tool_turn(c, fake, "apply_patch", {"input": text})
            assert r["isError"] and why in r["text"], (text, r)
            assert {p: (ws / p).read_bytes() for p in ("a.txt", "b.txt")} == before
            assert not (ws / "c.txt").exists()
        r = tool_turn(c, fake, "apply_patch", {"input": ""})
        assert r["isError"] and "Provide a patch input." in r["text"]
    assert not [n for n in os.listdir(ws) if "pincer-patch" in n or n == "c.txt"]
