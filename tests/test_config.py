from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def write(tmp_path: Path, text: str, name: str = "vtbot.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_validate(defaults):
    cfg = defaults.config
    assert cfg.llm.backend == "llamacpp"
    assert cfg.tts.engine == "piper"
    assert cfg.persona.name == "Mochi"
    assert len(cfg.demo.lines) >= 3


def test_user_file_merges_over_defaults(tmp_path):
    user = write(tmp_path, "persona:\n  name: Nova\nllm:\n  ollama:\n    model: qwen2.5:7b\n")
    cfg = load_config(user, env={}).config
    assert cfg.persona.name == "Nova"
    assert cfg.persona.max_reply_sentences == 3  # untouched default survives
    assert cfg.llm.ollama.model == "qwen2.5:7b"
    assert cfg.llm.ollama.host == "http://127.0.0.1:11434"


def test_example_persona_is_valid():
    from bot.config import shipped_config_path

    cfg = load_config(shipped_config_path("persona.example.yaml"), env={}).config
    assert cfg.persona.name == "Captain Nova"


def test_bad_value_names_file_line_key_and_reason(tmp_path):
    user = write(tmp_path, "persona:\n  name: Nova\nllm:\n  backend: gpt5\n  temperature: 9\n")
    with pytest.raises(ConfigError) as e:
        load_config(user, env={})
    problems = e.value.problems
    assert any(p.startswith(f"{user}:4: llm.backend: ") and "'llamacpp', 'ollama' or 'openai'" in p
               and "'gpt5'" in p for p in problems), problems
    assert any(p.startswith(f"{user}:5: llm.temperature: ") and "less than or equal to 2" in p
               for p in problems), problems


def test_unknown_key_is_reported(tmp_path):
    user = write(tmp_path, "tts:\n  pipr:\n    volume: 2\n")
    with pytest.raises(ConfigError) as e:
        load_config(user, env={})
    assert e.value.problems == [f"{user}:2: tts.pipr: unknown key (check the spelling; "
                                "`vtbot config check` prints every valid key)"]


def test_yaml_syntax_error_points_at_line(tmp_path):
    user = write(tmp_path, "persona:\n  name: [unclosed\n  style: x\n")
    with pytest.raises(ConfigError) as e:
        load_config(user, env={})
    assert e.value.problems[0].startswith(f"{user}:3:")
    assert "invalid YAML" in e.value.problems[0]


def test_missing_file_and_wrong_top_level(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml", env={})
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"), env={})


def test_secrets_in_yaml_are_refused(tmp_path):
    user = write(tmp_path, "llm:\n  openai:\n    api_key: sk-live-123\n")
    with pytest.raises(ConfigError) as e:
        load_config(user, env={})
    (problem,) = e.value.problems
    assert problem.startswith(f"{user}:3: llm.openai.api_key: secrets are not read from YAML")
    assert "sk-live-123" not in problem


def test_secrets_from_env_and_dotenv(tmp_path):
    dotenv = write(tmp_path, "VTBOT_OPENAI_API_KEY=from-dotenv-1234\nVTBOT_OLLAMA_API_KEY=olla-5678\n", ".env")
    loaded = load_config(None, env={"VTBOT_OPENAI_API_KEY": "from-env-9999"}, dotenv=dotenv)
    assert loaded.secrets.openai_api_key.get_secret_value() == "from-env-9999"  # env beats .env
    assert loaded.secrets.ollama_api_key.get_secret_value() == "olla-5678"
    assert "from-env-9999" not in repr(loaded.secrets)
    assert all("9999" not in v for v in loaded.secrets.masked().values())
