"""No secret value ever reaches a log line, a formatted argument or a traceback."""

import logging

from bot.logs import RedactingFilter, setup_logging


def test_secrets_are_masked_in_messages_args_and_tracebacks(tmp_path):
    log_file = tmp_path / "vtbot.log"
    secret = "sk-live-0123456789abcdef"
    setup_logging("DEBUG", [secret, "abc"], log_file, rich_console=False)
    log = logging.getLogger("vtbot.test")
    log.info("connecting with key %s", secret)
    log.warning(f"inline {secret} here")
    try:
        raise RuntimeError(f"auth failed for {secret}")
    except RuntimeError:
        log.exception("request failed")
    for h in logging.getLogger().handlers:
        h.flush()
    text = log_file.read_text()
    assert secret not in text
    assert text.count("********") == 3  # message, inline text, exception message
    assert "RuntimeError: auth failed for ********" in text
    logging.getLogger().handlers.clear()


def test_short_values_are_not_treated_as_secrets():
    f = RedactingFilter(["abc", ""])
    assert f.redact("abc abc") == "abc abc"
