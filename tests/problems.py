"""What a refused request looks like to a client: a problem+json answer naming each bad
field by its dotted path, with a message that says how to fix it."""


def assert_invalid(response, **expected):
    """422 problem+json whose `errors` name exactly these fields ("__" for "."), each with a
    message containing the text; the errors."""
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    expected = {field.replace("__", "."): text for field, text in expected.items()}
    assert set(errors) == set(expected), errors
    for field, text in expected.items():
        assert any(text in message for message in errors[field]), errors[field]
    return errors
