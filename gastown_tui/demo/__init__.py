"""The self-driving demo: a sample project as a rig, five beads in a convoy, the factory landing them."""
