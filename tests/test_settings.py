"""Settings from the environment fail early with a message that says what to set."""

import pytest

from healthrec import create_app
from healthrec.settings import SettingsError, from_env


def test_production_needs_a_secret_key():
    with pytest.raises(SettingsError, match="HEALTHREC_SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": None})


def test_development_invents_a_secret_and_warns(devdb):
    with pytest.warns(UserWarning, match="HEALTHREC_SECRET_KEY"):
        app = create_app({"ENV": "development", "SECRET_KEY": None, "MONGO_URI": devdb.uri,
                          "DB_NAME": "test_settings"})
    assert len(app.config["SECRET_KEY"]) >= 32


def test_environment_values_are_read_and_checked():
    settings = from_env({"MONGO_URI": "mongodb://db.example:27017/", "HEALTHREC_TOKEN_HOURS": "2"})
    assert settings["MONGO_URI"] == "mongodb://db.example:27017/"
    assert settings["TOKEN_HOURS"] == 2
    with pytest.raises(SettingsError, match="HEALTHREC_TOKEN_HOURS must be a whole number"):
        from_env({"HEALTHREC_TOKEN_HOURS": "two"})
