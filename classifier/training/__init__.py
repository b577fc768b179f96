"""Training: the loop shared by the CLI, the app and teaching (`trainer`), the named recipes
(`presets`), the test report (`report`), finishing a model into a servable checkpoint (`finish`),
and teaching a model a person's own examples (`teach`)."""
