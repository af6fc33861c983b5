"""Settings from the environment fail early with a message that says what to set."""

import pytest

from healthrec import create_app
from healthrec.settings import SettingsError, finalise, from_env


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


def test_production_refuses_the_cheap_password_profile():
    production = {"HEALTHREC_ENV": "production", "HEALTHREC_SECRET_KEY": "a long random production secret"}
    with pytest.raises(SettingsError, match="HEALTHREC_PASSWORD_PROFILE=cheapest is for tests only"):
        finalise(from_env({**production, "HEALTHREC_PASSWORD_PROFILE": "cheapest"}))
    with pytest.raises(SettingsError, match="HEALTHREC_PASSWORD_PROFILE=cheapest is for tests only"):
        create_app({"ENV": "production", "SECRET_KEY": "a long random production secret",
                    "PASSWORD_PROFILE": "cheapest"})
    assert finalise(from_env(production))["PASSWORD_PROFILE"] == "rfc_9106_low_memory"
    assert finalise(from_env({"HEALTHREC_PASSWORD_PROFILE": "cheapest",
                              "HEALTHREC_SECRET_KEY": "x"}))["PASSWORD_PROFILE"] == "cheapest"


def test_an_unknown_password_profile_names_the_choices():
    with pytest.raises(SettingsError, match="one of rfc_9106_low_memory, cheapest, got 'fast'"):
        finalise(from_env({"HEALTHREC_PASSWORD_PROFILE": "fast", "HEALTHREC_SECRET_KEY": "x"}))
