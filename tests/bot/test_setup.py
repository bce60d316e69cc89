"""How the project's commands run Rasa."""


def test_rasa_telemetry_and_crash_reports_are_off():
    # make exports RASA_TELEMETRY_ENABLED=false to every command (these tests included): a shop's
    # training runs and errors are not reported to Rasa's servers
    from rasa.telemetry import is_telemetry_enabled

    assert not is_telemetry_enabled()
