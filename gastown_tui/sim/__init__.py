"""The simulated coding agent (`gastown agent sim`): a whole terminal program
that works a hooked molecule without a model. `agent` is the program, `work`
its work loop, `script` the ``sim:`` instruction language, `actions` what the
instructions do in a worktree, `town` its view of the town through `gt`,
`screen` and `input` its terminal output and keyboard decoding."""
