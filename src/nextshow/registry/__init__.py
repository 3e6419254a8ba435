"""Dataset snapshots, model versions and the artifact store they live in."""
