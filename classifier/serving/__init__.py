"""Serving: a trained model answering a row, with its "not sure" (`predict.Predictor`)."""
