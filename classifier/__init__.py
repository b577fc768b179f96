"""The library behind the studio: MLP classifiers, their data, the inputs people give them, training and serving.

Its folders are its layers, each importing only those below it (`lint-imports` checks it):

- `training`, `serving`: the training loop, presets and finishing; a model answering an input;
- `data`: the data sets, each naming its kind of input, and their augmentation;
- `inputs`: one module per kind of input (a drawing, strokes, a hand photo, a hand's landmarks);
- `models`: the MLP, normalization, weights files, the "not sure" detector, ONNX;
- `paths`: where weights and data live.
"""
