"""Configuration from the environment: production refuses missing secrets, development generates them once."""

from __future__ import annotations

import logging
import stat
import subprocess

import pytest
from cryptography.fernet import Fernet

from backend.config import ConfigError, load_settings
from tests.process import SPENDWATCH, clean_env

SECRET = "a-long-jwt-signing-secret-for-the-config-tests-0123456789"


def key() -> str:
    return Fernet.generate_key().decode()


def config_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "backend.config" and r.levelno == logging.WARNING]


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert 'File "' not in text


# --- production ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "missing", "present"),
    [
        ({}, ["SECRET_KEY", "ENCRYPTION_KEYS"], []),
        ({"SECRET_KEY": SECRET}, ["ENCRYPTION_KEYS"], ["SECRET_KEY"]),
        ({"ENCRYPTION_KEYS": "KEY"}, ["SECRET_KEY"], ["ENCRYPTION_KEYS"]),
        ({"SECRET_KEY": "   ", "ENCRYPTION_KEYS": ""}, ["SECRET_KEY", "ENCRYPTION_KEYS"], []),
    ],
)
def test_production_refuses_to_start_without_secrets_and_names_the_missing_ones(tmp_path, given, missing, present):
    env = {"APP_ENV": "production", "SPENDWATCH_DATA_DIR": str(tmp_path)}
    env.update({k: (key() if v == "KEY" else v) for k, v in given.items()})
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    for name in missing:
        assert name in message
    for name in present:
        assert name not in message
    # Nothing is generated in production, not even the secret that was missing.
    assert list(tmp_path.iterdir()) == []


def test_production_starts_with_both_secrets(tmp_path):
    k = key()
    settings = load_settings(
        {"APP_ENV": "production", "SPENDWATCH_DATA_DIR": str(tmp_path), "SECRET_KEY": SECRET, "ENCRYPTION_KEYS": k}
    )
    assert settings.is_production
    assert settings.secret_key == SECRET
    assert settings.encryption_keys == (k,)
    assert list(tmp_path.iterdir()) == []


def test_app_env_is_case_insensitive(tmp_path):
    settings = load_settings(
        {
            "APP_ENV": " Production ",
            "SECRET_KEY": SECRET,
            "ENCRYPTION_KEYS": key(),
            "SPENDWATCH_DATA_DIR": str(tmp_path),
        }
    )
    assert settings.app_env == "production"


# --- *_FILE (Docker secrets) ---------------------------------------------------------------------------


def test_each_secret_is_read_from_its_file(tmp_path):
    k1, k2 = key(), key()
    secret_file = tmp_path / "secret_key.txt"
    keys_file = tmp_path / "keys.txt"
    db_file = tmp_path / "db.txt"
    secret_file.write_text(SECRET + "\n")
    keys_file.write_text(f"{k1},{k2}\n")
    db_file.write_text("sqlite:////tmp/from-a-file.db\n")
    settings = load_settings(
        {
            "APP_ENV": "production",
            "SPENDWATCH_DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY_FILE": str(secret_file),
            "ENCRYPTION_KEYS_FILE": str(keys_file),
            "DATABASE_URL_FILE": str(db_file),
        }
    )
    assert settings.secret_key == SECRET  # trailing newline of the file stripped
    assert settings.encryption_keys == (k1, k2)
    assert settings.database_url == "sqlite:////tmp/from-a-file.db"


def test_the_variable_wins_over_its_file(tmp_path):
    secret_file = tmp_path / "secret_key.txt"
    secret_file.write_text("from-the-file-" + SECRET)
    settings = load_settings(
        {
            "SECRET_KEY": SECRET,
            "SECRET_KEY_FILE": str(secret_file),
            "ENCRYPTION_KEYS": key(),
            "SPENDWATCH_DATA_DIR": str(tmp_path),
        }
    )
    assert settings.secret_key == SECRET


def test_an_empty_secret_file_counts_as_missing_in_production(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                "APP_ENV": "production",
                "SECRET_KEY_FILE": str(empty),
                "ENCRYPTION_KEYS": key(),
                "SPENDWATCH_DATA_DIR": str(tmp_path / "data"),
            }
        )
    assert "SECRET_KEY" in str(caught.value)
    assert "ENCRYPTION_KEYS" not in str(caught.value)


@pytest.mark.parametrize("name", ["SECRET_KEY", "ENCRYPTION_KEYS"])
@pytest.mark.parametrize("target", ["missing", "directory"])
def test_an_unreadable_secret_file_gives_a_clear_error(tmp_path, name, target):
    path = tmp_path / "nope" if target == "missing" else tmp_path
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "ENCRYPTION_KEYS": key(),
        "SPENDWATCH_DATA_DIR": str(tmp_path / "data"),
    }
    del env[name]
    env[f"{name}_FILE"] = str(path)
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert f"{name}_FILE" in message
    assert str(path) in message
    assert "cannot be read" in message


# --- development: generated secrets ---------------------------------------------------------------------


def test_development_generates_missing_secrets_once_with_one_warning(tmp_path, caplog):
    data = tmp_path / "data" / "nested"  # created on demand
    env = {"APP_ENV": "development", "SPENDWATCH_DATA_DIR": str(data)}
    caplog.set_level(logging.INFO)

    first = load_settings(env)
    warnings = config_warnings(caplog)
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "SECRET_KEY" in text and "ENCRYPTION_KEYS" in text and str(data) in text
    # The secrets themselves are never logged.
    assert first.secret_key not in caplog.text
    assert first.encryption_keys[0] not in caplog.text

    for name in ("secret_key", "encryption_keys"):
        path = data / name
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (data / "secret_key").read_text().strip() == first.secret_key
    assert (data / "encryption_keys").read_text().strip() == first.encryption_keys[0]
    Fernet(first.encryption_keys[0].encode())  # a usable key
    assert len(first.secret_key) >= 32
    assert first.secret_key not in first.encryption_keys

    caplog.clear()
    second = load_settings(env)
    assert config_warnings(caplog) == []
    assert second.secret_key == first.secret_key
    assert second.encryption_keys == first.encryption_keys


def test_development_generates_only_what_is_missing(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    settings = load_settings({"SECRET_KEY": SECRET, "SPENDWATCH_DATA_DIR": str(tmp_path)})
    assert settings.app_env == "development"  # the default
    assert settings.secret_key == SECRET
    assert not (tmp_path / "secret_key").exists()
    assert (tmp_path / "encryption_keys").is_file()
    [warning] = config_warnings(caplog)
    assert "ENCRYPTION_KEYS" in warning.getMessage()
    assert "SECRET_KEY" not in warning.getMessage()


def test_development_with_both_secrets_generates_nothing(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    load_settings({"SECRET_KEY": SECRET, "ENCRYPTION_KEYS": key(), "SPENDWATCH_DATA_DIR": str(tmp_path)})
    assert list(tmp_path.iterdir()) == []
    assert config_warnings(caplog) == []


def test_default_database_is_sqlite_in_the_data_dir(tmp_path):
    settings = load_settings({"SECRET_KEY": SECRET, "ENCRYPTION_KEYS": key(), "SPENDWATCH_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'spendwatch.db'}"
    assert settings.data_dir == tmp_path.resolve()


# --- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["not-a-fernet-key-but-a-secret-value", "c2hvcnQ=", "Zm9v" * 11])
def test_an_invalid_fernet_key_is_rejected_without_echoing_it(tmp_path, bad):
    good = key()
    with pytest.raises(ConfigError) as caught:
        load_settings({"SECRET_KEY": SECRET, "ENCRYPTION_KEYS": f"{good},{bad}", "SPENDWATCH_DATA_DIR": str(tmp_path)})
    message = str(caught.value)
    assert "ENCRYPTION_KEYS" in message
    assert "#2" in message  # which entry, by position
    assert bad not in message
    assert good not in message


def test_secret_key_equal_to_an_encryption_key_is_rejected(tmp_path):
    k1, k2 = key(), key()
    with pytest.raises(ConfigError) as caught:
        load_settings({"SECRET_KEY": k2, "ENCRYPTION_KEYS": f"{k1},{k2}", "SPENDWATCH_DATA_DIR": str(tmp_path)})
    message = str(caught.value)
    assert "SECRET_KEY" in message and "ENCRYPTION_KEYS" in message
    assert k2 not in message


def test_encryption_keys_keep_their_order_newest_first(tmp_path):
    keys = [key() for _ in range(3)]
    settings = load_settings(
        {
            "SECRET_KEY": SECRET,
            "ENCRYPTION_KEYS": f" {keys[0]} , {keys[1]},{keys[2]}, ",
            "SPENDWATCH_DATA_DIR": str(tmp_path),
        }
    )
    assert settings.encryption_keys == tuple(keys)


def test_encryption_keys_with_no_key_in_them_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        load_settings({"SECRET_KEY": SECRET, "ENCRYPTION_KEYS": " , ,", "SPENDWATCH_DATA_DIR": str(tmp_path)})


@pytest.mark.parametrize(
    ("app_env", "given", "expected"),
    [
        ("production", None, "json"),
        ("development", None, "text"),
        ("test", None, "text"),
        ("production", "text", "text"),
        ("development", "json", "json"),
    ],
)
def test_log_format_defaults(tmp_path, app_env, given, expected):
    env = {"APP_ENV": app_env, "SECRET_KEY": SECRET, "ENCRYPTION_KEYS": key(), "SPENDWATCH_DATA_DIR": str(tmp_path)}
    if given:
        env["LOG_FORMAT"] = given
    assert load_settings(env).log_format == expected


def test_bad_log_format_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings(
            {"LOG_FORMAT": "xml", "SECRET_KEY": SECRET, "ENCRYPTION_KEYS": key(), "SPENDWATCH_DATA_DIR": str(tmp_path)}
        )


@pytest.mark.parametrize("app_env", ["prod", "staging", "dev"])
def test_bad_app_env_is_rejected(tmp_path, app_env):
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"APP_ENV": app_env, "SECRET_KEY": SECRET, "ENCRYPTION_KEYS": key(), "SPENDWATCH_DATA_DIR": str(tmp_path)}
        )
    message = str(caught.value)
    assert "APP_ENV" in message
    assert app_env in message
    for allowed in ("development", "production", "test"):
        assert allowed in message
    assert list(tmp_path.iterdir()) == []


def test_bad_integer_settings_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match="SPENDWATCH_PORT"):
        load_settings(
            {
                "SPENDWATCH_PORT": "eighty",
                "SECRET_KEY": SECRET,
                "ENCRYPTION_KEYS": key(),
                "SPENDWATCH_DATA_DIR": str(tmp_path),
            }
        )


def test_body_limits(tmp_path):
    base = {"SECRET_KEY": SECRET, "ENCRYPTION_KEYS": key(), "SPENDWATCH_DATA_DIR": str(tmp_path)}
    defaults = load_settings(base)
    assert (defaults.max_json_bytes, defaults.max_request_bytes) == (1024 * 1024, 10 * 1024 * 1024)
    assert load_settings({**base, "MAX_JSON_BYTES": "65536"}).max_json_bytes == 65536
    with pytest.raises(ConfigError, match="MAX_JSON_BYTES must be at least 1024"):
        load_settings({**base, "MAX_JSON_BYTES": "10"})


def test_cors_origins_and_base_url(tmp_path):
    settings = load_settings(
        {
            "CORS_ORIGINS": "https://a.example, https://b.example,",
            "BASE_URL": "https://sw.example/",
            "SECRET_KEY": SECRET,
            "ENCRYPTION_KEYS": key(),
            "SPENDWATCH_DATA_DIR": str(tmp_path),
        }
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.base_url == "https://sw.example"


# --- the console script -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "missing", "present"),
    [({}, ["SECRET_KEY", "ENCRYPTION_KEYS"], []), ({"SECRET_KEY": SECRET}, ["ENCRYPTION_KEYS"], ["SECRET_KEY"])],
)
def test_cli_in_production_without_secrets_exits_nonzero_without_traceback(tmp_path, given, missing, present):
    env = clean_env(APP_ENV="production", SPENDWATCH_DATA_DIR=str(tmp_path / "data"), **given)
    result = subprocess.run(
        [str(SPENDWATCH), "db", "current"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    for name in missing:
        assert name in result.stderr
    for name in present:
        assert name not in result.stderr
    assert "configuration error" in result.stderr
    assert_no_traceback(result.stderr + result.stdout)
    assert not (tmp_path / "data").exists() or list((tmp_path / "data").iterdir()) == []
