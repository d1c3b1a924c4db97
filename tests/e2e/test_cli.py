"""The command line as a user meets it: help, versions, typos, global options."""
import json
import os
import re

from conftest import PINCER


def commands(penv):
    """Every command path in the table, from `pincer help --json`."""
    r = penv.run("help", "--json")
    assert r.returncode == 0, r.stderr
    tree = json.loads(r.stdout)
    out = []

    def walk(prefix, cmds):
        for c in cmds:
            path = prefix + [c["name"]]
            out.append(path)
            walk(path, c.get("subcommands", []))

    walk([], tree["commands"])
    return out


def test_every_command_answers_h(penv):
    paths = commands(penv)
    assert ["config", "get"] in paths and ["gateway", "run"] in paths
    for path in paths:
        for flag in ("-h", "--help"):
            r = penv.run(*path, flag)
            assert r.returncode == 0, (path, r.stderr)
            assert r.stdout.startswith("usage: pincer " + " ".join(path)), (path, r.stdout)
            assert "--state-dir" in r.stdout  # global options are listed too
        # `pincer help X Y` prints the same usage as `pincer X Y -h`.
        assert penv.run("help", *path).stdout == penv.run(*path, "-h").stdout


def test_top_level_help_and_version(penv):
    for args in ((), ("-h",), ("--help",), ("help",)):
        r = penv.run(*args)
        assert r.returncode == 0
        assert r.stdout.startswith("usage: pincer")
        for name in ("gateway", "config", "version", "help"):
            assert re.search(r"^  %s " % name, r.stdout, re.M)
    r = penv.run("--version")
    assert r.returncode == 0 and re.fullmatch(r"pincer \d+\.\d+\.\d+\n", r.stdout)
    r = penv.run("version", "--json")
    info = json.loads(r.stdout)
    assert info["version"] in penv.run("--version").stdout
    assert {"jansson", "libuv", "libwebsockets", "openssl"} <= set(info["libraries"])


def test_unknown_command_suggests_closest(penv):
    r = penv.run("confg")
    assert r.returncode == 2
    assert r.stderr == "pincer: unknown command 'confg'; did you mean 'config'?\n"
    r = penv.run("zzzzzz")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    r = penv.run("config", "gett")
    assert r.returncode == 2 and "did you mean 'get'" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_unknown_option_suggests_closest(penv):
    r = penv.run("config", "get", "gateway.port", "--jsn")
    assert r.returncode == 2
    assert r.stderr == "pincer config get: unknown option '--jsn'; did you mean '--json'?\n"
    r = penv.run("--verison")
    assert r.returncode == 2 and "did you mean '--version'" in r.stderr
    r = penv.run("version", "--bogus-thing-entirely")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1


def test_option_value_errors(penv):
    r = penv.run("gateway", "run", "--port")
    assert r.returncode == 2 and "needs a value" in r.stderr
    r = penv.run("gateway", "run", "--port", "eighty")
    assert r.returncode == 2 and "expects an integer" in r.stderr
    r = penv.run("version", "--json=yes")
    assert r.returncode == 2 and "takes no value" in r.stderr


def test_group_command_without_subcommand(penv):
    r = penv.run("config")
    assert r.returncode == 2
    assert "usage: pincer config" in r.stderr


def test_state_dir_resolution(penv, tmp_path):
    # --state-dir beats PINCER_STATE_DIR, which beats --profile and --dev.
    r = penv.run("config", "file")
    assert r.stdout.strip() == str(penv.state / "pincer.json")
    r = penv.run("--state-dir", str(tmp_path / "x"), "config", "file")
    assert r.stdout.strip() == str(tmp_path / "x" / "pincer.json")
    r = penv.run("config", "file", "--state-dir=" + str(tmp_path / "y"))
    assert r.stdout.strip() == str(tmp_path / "y" / "pincer.json")
    env = {"PINCER_STATE_DIR": ""}
    assert penv.run("--profile", "work", "config", "file", env=env).stdout.strip() == str(
        penv.home / ".pincer-work" / "pincer.json")
    assert penv.run("--dev", "config", "file", env=env).stdout.strip() == str(
        penv.home / ".pincer-dev" / "pincer.json")
    assert penv.run("config", "file", env=env).stdout.strip() == str(
        penv.home / ".pincer" / "pincer.json")
    r = penv.run("config", "file", env={"PINCER_CONFIG_PATH": str(tmp_path / "c.json5")})
    assert r.stdout.strip() == str(tmp_path / "c.json5")


def test_bad_profile_name_rejected(penv):
    r = penv.run("--profile", "../evil", "config", "file", env={"PINCER_STATE_DIR": ""})
    assert r.returncode == 2 and "invalid profile name" in r.stderr


def test_help_names_for_completion(penv):
    r = penv.run("help", "--names")
    assert r.stdout.split() == [c[0] for c in commands(penv) if len(c) == 1]
    r = penv.run("help", "--names", "config")
    assert "validate" in r.stdout.split()


def test_binary_is_installed_with_man_and_completion(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import subprocess
    rel = os.path.relpath(PINCER, root)
    # -o: install the binary under test as it is, never rebuild it here.
    r = subprocess.run(["make", "-s", "-C", root, "-o", rel, "install",
                        "PREFIX=" + str(tmp_path), "BIN=" + rel],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert os.access(tmp_path / "bin" / "pincer", os.X_OK)
    assert (tmp_path / "share" / "man" / "man1" / "pincer.1").read_text().startswith(".TH")
    assert "complete" in (tmp_path / "share" / "bash-completion" / "completions" /
                          "pincer").read_text()


def test_bash_completion(penv):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = os.path.join(root, "completion", "pincer.bash")

    def complete(*words):
        cmd = ("source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _pincer; "
               "printf '%%s\\n' \"${COMPREPLY[@]}\"" % (
                   script, " ".join(words), len(words) - 1))
        env = dict(penv.env, PATH=os.path.dirname(PINCER) + ":" + os.environ["PATH"],
                   PINCER_BIN=PINCER)
        r = __import__("subprocess").run(["bash", "-c", cmd], env=env, capture_output=True,
                                          text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert complete("pincer", "con") == ["config"]
    assert set(complete("pincer", "config", "")) >= {"get", "set", "validate"}
    assert "--json" in complete("pincer", "config", "get", "--j")
    assert "gateway.port" in complete("pincer", "config", "get", "gateway.po")
