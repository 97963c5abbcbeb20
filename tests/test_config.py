from pathlib import Path

from cryptorobot.config import load_config


def write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.toml").write_text(text)


def test_environment_file_overrides_defaults(tmp_path: Path) -> None:
    write(tmp_path, "default", 'port = 3030\nstorage = "sqlite"\n[paginate]\ndefault = 25\nmax = 100\n')
    write(tmp_path, "staging", "port = 4000\n[paginate]\nmax = 50\n")
    config = load_config("staging", environ={}, directory=tmp_path)
    assert config["port"] == 4000
    assert config["paginate"] == {"default": 25, "max": 50}
    assert config["storage"] == "sqlite"
    assert config["env"] == "staging"


def test_environment_variables_override_files(tmp_path: Path) -> None:
    write(tmp_path, "default", 'host = "127.0.0.1"\nport = 3030\n[paginate]\nmax = 100\n[socketio]\nredis_url = ""\n')
    environ = {
        "CRYPTOROBOT_HOST": "0.0.0.0",
        "CRYPTOROBOT_PORT": "8080",
        "CRYPTOROBOT_DATA_DIR": "/var/lib/cryptorobot",
        "CRYPTOROBOT_PAGINATE__MAX": "50",
        "CRYPTOROBOT_SOCKETIO__REDIS_URL": "redis://127.0.0.1:6379/0",
        "CRYPTOROBOT_FEATURES__BETA": "true",
        "UNRELATED": "x",
    }
    config = load_config(environ=environ, directory=tmp_path)
    assert config["host"] == "0.0.0.0"
    assert config["port"] == 8080
    assert config["data_dir"] == "/var/lib/cryptorobot"
    assert config["paginate"] == {"max": 50}
    assert config["socketio"]["redis_url"] == "redis://127.0.0.1:6379/0"
    assert config["features"] == {"beta": True}
    assert "unrelated" not in config


def test_env_selects_file_and_defaults_to_development(tmp_path: Path) -> None:
    write(tmp_path, "default", "port = 1\n")
    write(tmp_path, "development", "port = 2\n")
    write(tmp_path, "test", "port = 3\n")
    assert load_config(environ={}, directory=tmp_path)["port"] == 2
    assert load_config(environ={"CRYPTOROBOT_ENV": "test"}, directory=tmp_path)["port"] == 3


def test_project_config_files_parse() -> None:
    config = load_config("production", environ={})
    assert config["storage"] == "sqlite"
    assert config["paginate"] == {"default": 25, "max": 100}
    assert config["host"] == "0.0.0.0"
