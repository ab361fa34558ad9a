"""tokzoo: one library to train, run, evaluate and compare tokenizers."""
