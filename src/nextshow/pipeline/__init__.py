"""Training pipeline: snapshot -> train -> evaluate -> register -> promote behind a quality gate."""
