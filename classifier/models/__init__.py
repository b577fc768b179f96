"""What a model is and how it travels: the MLP, the one normalization, its batched forward pass,
self-describing weights files, the "not sure" detector stored beside it, a look inside it, and ONNX."""
