"""How the project's commands run Rasa."""

import argparse

import pytest


def test_rasa_telemetry_and_crash_reports_are_off():
    # make exports RASA_TELEMETRY_ENABLED=false to every command (these tests included): a shop's
    # training runs and errors are not reported to Rasa's servers
    from rasa.telemetry import is_telemetry_enabled

    assert not is_telemetry_enabled()


def test_the_launcher_puts_the_api_token_from_the_environment_after_the_options():
    from bot.serve import rasa_run_argv

    argv = rasa_run_argv(["--model", "models/m.tar.gz", "--port", "5005"], {"RASA_TOKEN": " s3cret\n"})
    assert argv == [
        "rasa",
        "run",
        "--model",
        "models/m.tar.gz",
        "--port",
        "5005",
        "--enable-api",
        "--auth-token=s3cret",
    ]


def test_rasa_reads_a_token_that_starts_with_a_dash_as_the_token():
    # secrets.token_urlsafe() may start with "-"; as a separate argument argparse took it for an option
    from rasa.cli.arguments.run import add_server_arguments

    from bot.serve import rasa_run_argv

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    args = parser.parse_args(rasa_run_argv(["--port", "5005"], {"RASA_TOKEN": "-Xy_9"})[2:])
    assert args.auth_token == "-Xy_9" and args.enable_api


@pytest.mark.parametrize(
    "options, environ, says",
    [
        ([], {}, "RASA_TOKEN is not set"),
        ([], {"RASA_TOKEN": "  "}, "RASA_TOKEN is not set"),
        (["--auth-token", "visible"], {"RASA_TOKEN": "t"}, "not as --auth-token"),
        (["--auth-token=visible"], {"RASA_TOKEN": "t"}, "not as --auth-token"),
    ],
)
def test_the_launcher_refuses_to_start_an_open_or_visible_api(options, environ, says):
    from bot.serve import LaunchError, rasa_run_argv

    with pytest.raises(LaunchError, match=says):
        rasa_run_argv(options, environ)


def test_the_server_runs_one_blas_thread_and_never_sees_the_token():
    from bot.serve import serving_environment

    served = serving_environment({"RASA_TOKEN": "secret", "PATH": "/usr/bin", "OMP_NUM_THREADS": "4"})
    assert "RASA_TOKEN" not in served and served["PATH"] == "/usr/bin"
    assert served["OPENBLAS_NUM_THREADS"] == "1"
    assert served["OMP_NUM_THREADS"] == "4"  # an operator's own choice stands


def test_secrets_env_is_created_private_and_older_files_get_the_missing_keys(tmp_path):
    import re
    import shutil
    import stat
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / ".ci").mkdir()
    shutil.copy2(root / ".ci" / "secrets.sh", tmp_path / ".ci" / "secrets.sh")

    def run() -> dict:
        subprocess.run([str(tmp_path / ".ci" / "secrets.sh")], check=True, capture_output=True)
        path = tmp_path / "var" / "secrets.env"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        return dict(re.findall(r"^([A-Z_]+)=(.*)$", path.read_text(), re.M))

    created = run()
    assert {"RASA_TOKEN", "RASA_HANDOFF_TOKEN", "ACTION_SERVER_SECRET"} <= set(created)
    assert all(len(value) >= 32 for value in created.values())
    assert len(set(created.values())) == len(created)
    assert run() == created  # kept as they are

    # a secrets.env from before the bridge and the action server's secret: the old token stays
    (tmp_path / "var" / "secrets.env").write_text("# old\nRASA_TOKEN=old-token\n")
    (tmp_path / "var" / "secrets.env").chmod(0o644)
    upgraded = run()
    assert upgraded["RASA_TOKEN"] == "old-token"
    assert set(upgraded) == set(created)
