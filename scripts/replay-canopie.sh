#!/bin/sh
# Replays the CANOPIE-22 single-application runs (../shared/data/canopie22-scaling)
# on the CANOPIE-22 cluster with the MPI Operator's launch modelled
# (scenarios/replay/canopie22-mpijob.yaml) under kube-scheduler and Fluence, and prints, for each scheduler, the
# replay error of the runs it produced (docs/validation.md, "Replaying the
# CANOPIE-22 runs"). Usage: scripts/replay-canopie.sh [DATA [OUT]]
set -eu
SIM=${SIM:-bin/sim}
DATA=${1:-../shared/data/canopie22-scaling}
OUT=${2:-out/replay-canopie22}
for f in lammps_scaling/lammps_scaling amg_ranks_per_node/amg_ranks_per_node_study \
         amg_scaling-efa/amg_scaling_efa amg_scaling-no_efa/amg_scaling_no_efa \
         qmcpack_scaling/qmcpack_scaling; do
    study=$(dirname "$f")
    echo "== $study"
    "$SIM" replay "$DATA/$f.tgz" --cluster scenarios/replay/canopie22-mpijob.yaml \
        --policy kube --policy fluence,policy.fluence.launchers=kube,policy.fluence.skipLabel=role \
        -o "$OUT/$study" --force -q
    for p in kube fluence-fluence.launchers-kube-fluence.skipLabel-role; do
        cat "$OUT/$study/$p/replay.txt"
    done
done
