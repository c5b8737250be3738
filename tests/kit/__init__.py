"""The shared test kit: real git repositories (`kit.git`) and the one way to wait for
something (`kit.waiting.until`). Import as `from kit.git import git` (tests/ is on the path).
Towns are built through the product's own API (`town.install.install_town`,
`town.rigs.add_rig`) on a repo from `kit.git.one_commit_repo`."""
