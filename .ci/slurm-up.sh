#!/usr/bin/env bash
# Bring up a single-node Slurm cluster on this machine, as root, without
# Docker — a recipe a user can read and the CI runs before the Slurm tests
# of `zoo sweep` (sweep/slurm_test.go).
#
#   sudo bash .ci/slurm-up.sh        # Debian 12 (bookworm) or similar
#
# Steps: install the Debian packages; start munge (Slurm's authentication)
# with a key; write a minimal slurm.conf describing one node (this machine,
# with `nproc` CPUs) in one partition "debug"; start slurmctld (the
# controller) and slurmd (the node daemon); wait until `sinfo` shows the
# node idle. Running it again is harmless: finished steps are skipped and
# the daemons restarted.
set -euo pipefail

CPUS=$(nproc)
CONF_DIR=/etc/slurm
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
fi

# 2. munge: a key, then the daemon (--force: run even if the key's owner is root).
if [ ! -s /etc/munge/munge.key ]; then
	mkdir -p /etc/munge
	dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
if ! pgrep -x munged >/dev/null; then
	munged --force
fi
munge -n | unmunge >/dev/null # fails here if authentication does not work

# 3. A minimal slurm.conf: one node (this machine), one partition.
mkdir -p "$CONF_DIR" "$STATE" "$SPOOL" "$LOGS"
cat >"$CONF_DIR/slurm.conf" <<CONF
ClusterName=aezoo
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
KillWait=30
MinJobAge=300
NodeName=localhost CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
# No cgroup.conf: Debian 12's Slurm 22.05 has no "CgroupPlugin=disabled", and nothing here uses cgroups.
rm -f "$CONF_DIR/cgroup.conf" # not needed with proctrack/linuxproc and task/none

# 4. The daemons (restarted so that a changed slurm.conf is read).
for d in slurmctld slurmd; do
	if [ -f /run/$d.pid ] && kill -0 "$(cat /run/$d.pid)" 2>/dev/null; then
		kill "$(cat /run/$d.pid)"
		sleep 1
	fi
done
slurmctld
slurmd

# 5. Wait for the node.
for _ in $(seq 60); do
	if sinfo -h -N -o '%T' 2>/dev/null | grep -qx 'idle'; then
		sinfo
		exit 0
	fi
	scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
	sleep 1
done
echo "slurm-up: the node did not become idle in 60 s" >&2
sinfo -N -l >&2 || true
tail -n 20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 || true
exit 1
