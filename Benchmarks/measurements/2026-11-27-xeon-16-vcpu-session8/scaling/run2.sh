#!/bin/bash
# Session 8: thread scaling 1..16 of main at 0a0a0bc (D, C, B), then the peers at 16 threads on D and B.
REAL_OUT=$OUT
export OUT=/tmp/o
CONFIGS="D C B" PEER_CONFIGS="D B" REPEAT=2 OURS_S=120 BUDGET_S=400 PEER_REPEAT=2 bash .devicerun/scaling.sh
tar -C /tmp -czf "$REAL_OUT/results.tgz" o
