#!/usr/bin/env bash
# start-slurm.sh - bring up a single-node Slurm cluster on this machine (localhost only),
# for MOSAIC's cluster integration tests (submit/slurm, run with MOSAIC_SLURM=1).
#
# Idempotent: installs Debian packages if missing, starts munged, writes the config,
# starts slurmctld + slurmd (and optionally MariaDB + slurmdbd for sacct), then waits
# until the node reports idle. Running it again while everything is up is a no-op;
# if the generated config changed, only the daemons this script started are restarted.
#
# Every daemon this script starts gets a pid file under $SLURM_LAB_DIR/run; stop-slurm.sh
# stops exactly those (never by name). A munged/mariadbd that was already running
# before (not started by this script) is reused and left alone.
#
# Settings (environment):
#   SLURM_LAB_DIR         state/log/pid dir                    (default /tmp/slurmlab)
#   SLURM_LAB_CPUS        CPUs the node advertises            (default: nproc; more than
#                         nproc is allowed: SlurmdParameters=config_overrides)
#   SLURM_LAB_MEM_MB      RealMemory in MB                     (default: 90% of MemTotal,
#                         rounded down to 256 MB)
#   SLURM_LAB_FAKE_GPUS   N>0 adds GresTypes=gpu and N fake gpus backed by inert device
#                         nodes $SLURM_LAB_DIR/fakegpu/nvidiaN (scheduling and
#                         CUDA_VISIBLE_DEVICES only, no real GPU)  (default 0)
#   SLURM_LAB_CGROUP      1 = proctrack/cgroup + task/cgroup (cgroup v1: memory limits
#                         enforced, cores pinned); 0 = proctrack/linuxproc + task/none
#                         (default 0; 1 needs SLURM_LAB_CPUS <= nproc)
#   SLURM_LAB_ACCOUNTING  none | slurmdbd  (slurmdbd = private MariaDB on 127.0.0.1:3307
#                         + slurmdbd, so `sacct` works)          (default none)
#   SLURM_LAB_TIMEOUT     seconds to wait for each step        (default 90)
#   SLURM_LAB_MAX_ARRAY_SIZE  MaxArraySize of the cluster: array indices run 0 to this
#                         value minus 1 (default 10001; MOSAIC's chunking test needs a
#                         small one, such as 5)
#   SLURM_LAB_CONF_DIR    where slurm.conf goes                 (default /etc/slurm, the
#                         path Debian's clients read without SLURM_CONF)
set -euo pipefail

LAB_DIR=${SLURM_LAB_DIR:-/tmp/slurmlab}
CPUS=${SLURM_LAB_CPUS:-$(nproc)}
MEM_MB=${SLURM_LAB_MEM_MB:-$(awk '/^MemTotal:/{print int($2/1024*0.9/256)*256}' /proc/meminfo)}
FAKE_GPUS=${SLURM_LAB_FAKE_GPUS:-0}
ACCOUNTING=${SLURM_LAB_ACCOUNTING:-none}
CGROUP=${SLURM_LAB_CGROUP:-0}
TIMEOUT=${SLURM_LAB_TIMEOUT:-90}
MAX_ARRAY_SIZE=${SLURM_LAB_MAX_ARRAY_SIZE:-10001}
CONF_DIR=${SLURM_LAB_CONF_DIR:-/etc/slurm}

RUN=$LAB_DIR/run
LOGS=$LAB_DIR/log
STATE=$LAB_DIR/state
MYSQL_DIR=$LAB_DIR/mysql
MYSQL_PORT=3307
MYSQL_SOCK=$MYSQL_DIR/mysqld.sock
DB_PASS=slurmlab            # loopback-only throwaway database
NODE=$(hostname -s)
MARK='# managed-by: start-slurm.sh'
export SLURM_CONF=$CONF_DIR/slurm.conf

log() { printf 'start-slurm: %s\n' "$*"; }
SHOW_LOGS=0   # set once the settings are validated: then errors also show the daemon logs
die() {
	printf 'start-slurm: ERROR: %s\n' "$*" >&2
	if [ $SHOW_LOGS = 1 ]; then
		local f files=("$LOGS"/slurmctld.log "$LOGS"/slurmd.log)
		[ "$ACCOUNTING" = slurmdbd ] && files+=("$LOGS"/slurmdbd.log)
		for f in "${files[@]}"; do
			[ -s "$f" ] && { printf -- '--- last lines of %s ---\n' "$f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	exit 1
}
t_start=$(date +%s.%N)
elapsed() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}'; }

# --- sanity -----------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (installs packages, starts munged as user munge)"
case $ACCOUNTING in none|slurmdbd) ;; *) die "SLURM_LAB_ACCOUNTING must be none or slurmdbd, got '$ACCOUNTING'";; esac
[[ $CPUS =~ ^[1-9][0-9]*$ ]] || die "SLURM_LAB_CPUS must be a positive integer, got '$CPUS'"
[[ $MAX_ARRAY_SIZE =~ ^[1-9][0-9]*$ ]] || die "SLURM_LAB_MAX_ARRAY_SIZE must be a positive integer, got '$MAX_ARRAY_SIZE'"
[[ $MEM_MB =~ ^[1-9][0-9]*$ ]] || die "SLURM_LAB_MEM_MB must be a positive integer, got '$MEM_MB'"
[[ $FAKE_GPUS =~ ^[0-9]+$ ]] || die "SLURM_LAB_FAKE_GPUS must be an integer, got '$FAKE_GPUS'"
case $CGROUP in 0|1) ;; *) die "SLURM_LAB_CGROUP must be 0 or 1, got '$CGROUP'";; esac
if [ "$CGROUP" = 1 ]; then
	for c in freezer memory cpuset; do
		[ -d /sys/fs/cgroup/$c ] || die "SLURM_LAB_CGROUP=1 needs the cgroup v1 controller '$c' at /sys/fs/cgroup/$c (only cgroup v1 is wired up here)"
	done
	[ "$CPUS" -le "$(nproc)" ] || die "SLURM_LAB_CGROUP=1 pins cores, so SLURM_LAB_CPUS ($CPUS) cannot exceed nproc ($(nproc))"
fi
mkdir -p "$RUN" "$LOGS" "$STATE/ctld" "$STATE/d" "$CONF_DIR"
SHOW_LOGS=1

# A daemon we start is re-parented to PID 1, which here reaps exited children only every
# ~2 s, so a dead daemon can linger as a zombie with the same comm: treat Z/X as gone.
is_live() { # pid
	local st
	st=$(awk '/^State:/{print $2}' /proc/"$1"/status 2>/dev/null || true)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
is_dead() { ! is_live "$1"; }
# pid file of a daemon *we* started -> pid, if that process is still that daemon.
our_pid() { # name
	local f=$RUN/$1.pid pid
	[ -s "$f" ] || return 1
	pid=$(tr -dc '0-9' < "$f")
	[ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$1" ] && is_live "$pid" && { echo "$pid"; return 0; }
	rm -f "$f"    # stale
	return 1
}
wait_for() { # seconds description command...
	local secs=$1 what=$2; shift 2
	local end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
port_owner() { # port -> "pid/comm" of the listener, empty if free
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true
}
stop_ours() { # name
	local pid
	pid=$(our_pid "$1") || return 0
	log "restarting $1 (pid $pid) because its config changed"
	kill -TERM "$pid" 2>/dev/null || true
	wait_for 30 "$1 exit" is_dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
	rm -f "$RUN/$1.pid"
}

# --- 1. packages ----------------------------------------------------------------------
pkgs=()
command -v slurmctld >/dev/null || pkgs+=(slurmctld)
command -v slurmd    >/dev/null || pkgs+=(slurmd)
command -v sbatch    >/dev/null || pkgs+=(slurm-client)
command -v munged    >/dev/null || pkgs+=(munge)
if [ "$ACCOUNTING" = slurmdbd ]; then
	command -v slurmdbd >/dev/null || pkgs+=(slurmdbd)
	command -v mariadbd >/dev/null || pkgs+=(mariadb-server)
fi
if [ ${#pkgs[@]} -gt 0 ]; then
	log "installing ${pkgs[*]} (log: $LOGS/apt.log)"
	export DEBIAN_FRONTEND=noninteractive
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		# keep the packages' maintainer scripts from starting daemons we do not track
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt_i() { apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${pkgs[@]}" >>"$LOGS/apt.log" 2>&1; }
	if ! apt-cache show slurmctld >/dev/null 2>&1 || ! apt_i; then
		log "running apt-get update and retrying"
		apt-get -o DPkg::Lock::Timeout=300 update >>"$LOGS/apt.log" 2>&1 || die "apt-get update failed, see $LOGS/apt.log"
		apt_i || die "apt-get install ${pkgs[*]} failed, see $LOGS/apt.log"
	fi
	if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
	log "packages installed ($(elapsed))"
fi

# --- 2. munge -------------------------------------------------------------------------
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
	log "creating /etc/munge/munge.key"
	mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 0600 /etc/munge/munge.key
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
	if pid=$(our_pid munged); then log "munged already running (pid $pid)"
	else log "munged already running, not started by this script: reusing it, stop-slurm.sh will leave it"; fi
else
	rm -f "$RUN/munged.pid"
	runuser -u munge -- /usr/sbin/munged >>"$LOGS/munged.start.log" 2>&1 ||
		die "munged failed to start: $(tail -n 3 "$LOGS/munged.start.log"; tail -n 3 /var/log/munge/munged.log 2>/dev/null)"
	wait_for "$TIMEOUT" "munge" munge_ok || die "munged started but munge -n | unmunge fails (see /var/log/munge/munged.log)"
	cp /run/munge/munged.pid "$RUN/munged.pid"
	log "munged started (pid $(cat "$RUN/munged.pid"))"
fi

# --- 3. config ------------------------------------------------------------------------
changed=()
put_conf() { # dest mode ; content on stdin. Records the file's basename in changed[].
	local dest=$1 mode=$2 tmp
	tmp=$(mktemp)
	cat > "$tmp"
	if ! cmp -s "$tmp" "$dest"; then
		if [ -e "$dest" ] && ! grep -qF "$MARK" "$dest"; then
			cp -p "$dest" "$dest.orig.$(date +%s)"
			log "kept the previous $(basename "$dest") as $dest.orig.*"
		fi
		install -m "$mode" "$tmp" "$dest"
		changed+=("$(basename "$dest")")
	fi
	rm -f "$tmp"
}

# Bind the daemons to loopback rather than 0.0.0.0 when the short hostname resolves to it.
comm_params=""
case $(getent ahostsv4 "$NODE" 2>/dev/null | awk 'NR==1{print $1}') in
127.*) comm_params="CommunicationParameters=NoCtldInAddrAny,NoInAddrAny" ;;
*) log "note: $NODE does not resolve to 127.x; daemons will listen on all addresses" ;;
esac

gres_line=""
if [ "$FAKE_GPUS" -gt 0 ]; then
	gres_line=" Gres=gpu:$FAKE_GPUS"
	# gres/gpu needs one device file per GPU (Count= alone leaves the node INVAL:
	# "gres/gpu count reported lower than configured"). Inert char-device nodes with the
	# NVIDIA major number do; nothing opens them, and jobs get CUDA_VISIBLE_DEVICES.
	mkdir -p "$LAB_DIR/fakegpu"
	for ((i = 0; i < FAKE_GPUS; i++)); do
		[ -c "$LAB_DIR/fakegpu/nvidia$i" ] || mknod "$LAB_DIR/fakegpu/nvidia$i" c 195 "$i" ||
			die "mknod $LAB_DIR/fakegpu/nvidia$i failed (a nodev mount?); set SLURM_LAB_DIR elsewhere"
	done
	gres_dev="File=$LAB_DIR/fakegpu/nvidia0"
	[ "$FAKE_GPUS" -gt 1 ] && gres_dev="File=$LAB_DIR/fakegpu/nvidia[0-$((FAKE_GPUS - 1))]"
	put_conf "$CONF_DIR/gres.conf" 0644 <<EOF
$MARK
# Fake GPUs: scheduling/accounting only, there is no GPU behind them.
AutoDetect=off
NodeName=$NODE Name=gpu $gres_dev
EOF
elif [ -e "$CONF_DIR/gres.conf" ] && grep -qF "$MARK" "$CONF_DIR/gres.conf"; then
	rm -f "$CONF_DIR/gres.conf"; changed+=(gres.conf)
fi

if [ "$CGROUP" = 1 ]; then
	track="ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup,task/affinity"
	put_conf "$CONF_DIR/cgroup.conf" 0644 <<EOF
$MARK
CgroupPlugin=cgroup/v1
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
ConstrainDevices=no
EOF
else
	track="ProctrackType=proctrack/linuxproc
TaskPlugin=task/none"
	if [ -e "$CONF_DIR/cgroup.conf" ] && grep -qF "$MARK" "$CONF_DIR/cgroup.conf"; then
		rm -f "$CONF_DIR/cgroup.conf"; changed+=(cgroup.conf)
	fi
fi

if [ "$ACCOUNTING" = slurmdbd ]; then
	acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30"
else
	acct="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi

put_conf "$CONF_DIR/slurm.conf" 0644 <<EOF
$MARK
# Single-node lab cluster on localhost. Regenerated on every start; edit start-slurm.sh.
ClusterName=lab
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
# cred_expire also sets how long a requeued job waits before it may start again
# (default 120 s); 10 s keeps requeue tests short.
AuthInfo=cred_expire=10
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$track
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
$acct
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
${comm_params}
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
MaxArraySize=$MAX_ARRAY_SIZE
MaxJobCount=100000
MinJobAge=900
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=10
${gres_line:+GresTypes=gpu}
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB${gres_line} State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

if [ "$ACCOUNTING" = slurmdbd ]; then
	put_conf "$CONF_DIR/slurmdbd.conf" 0600 <<EOF
$MARK
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$LOGS/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
fi
[ ${#changed[@]} -gt 0 ] && log "config written: ${changed[*]}"
conf_changed() { local c; for c in "${changed[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }

# --- 4. daemons ---------------------------------------------------------------------
start_daemon() { # name port cmd...
	local name=$1 port=$2 pid owner; shift 2
	if pid=$(our_pid "$name"); then log "$name already running (pid $pid)"; return 0; fi
	owner=$(port_owner "$port")
	[ -z "$owner" ] || die "port $port is already taken by pid $owner ($(cat /proc/"$owner"/comm 2>/dev/null)), which this script did not start; stop it first"
	"$@" >>"$LOGS/$name.start.log" 2>&1 || die "$name failed to start: $(tail -n 5 "$LOGS/$name.start.log")"
	wait_for "$TIMEOUT" "$name pid file" our_pid "$name" || die "$name did not come up (no live pid in $RUN/$name.pid)"
	log "$name started (pid $(cat "$RUN/$name.pid"))"
}

if [ "$ACCOUNTING" = slurmdbd ]; then
	mysql_ok() { mariadb --socket="$MYSQL_SOCK" -uroot -e 'select 1'; }
	if ! mysql_ok >/dev/null 2>&1; then
		[ -z "$(port_owner $MYSQL_PORT)" ] || die "port $MYSQL_PORT is already taken by pid $(port_owner $MYSQL_PORT)"
		install -d -o mysql -g mysql -m 0750 "$MYSQL_DIR"
		if [ ! -d "$MYSQL_DIR/data/mysql" ]; then
			log "initialising private MariaDB datadir $MYSQL_DIR/data"
			mariadb-install-db --no-defaults --user=mysql --datadir="$MYSQL_DIR/data" \
				--auth-root-authentication-method=socket --skip-test-db >>"$LOGS/mariadb.log" 2>&1 ||
				die "mariadb-install-db failed, see $LOGS/mariadb.log"
		fi
		setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MYSQL_DIR/data" \
			--socket="$MYSQL_SOCK" --bind-address=127.0.0.1 --port=$MYSQL_PORT \
			--pid-file="$MYSQL_DIR/mariadbd.pid" --log-error="$MYSQL_DIR/error.log" \
			--innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
			</dev/null >/dev/null 2>&1 &
		echo $! > "$RUN/mariadbd.pid"
		wait_for "$TIMEOUT" mariadb mysql_ok || die "MariaDB did not respond on $MYSQL_SOCK (see $MYSQL_DIR/error.log)"
		[ -s "$MYSQL_DIR/mariadbd.pid" ] && cp "$MYSQL_DIR/mariadbd.pid" "$RUN/mariadbd.pid"
		log "mariadbd started (pid $(cat "$RUN/mariadbd.pid"))"
	elif pid=$(our_pid mariadbd); then
		log "mariadbd already running (pid $pid)"
	else
		log "mariadbd already answering on $MYSQL_SOCK (not started by this script)"
	fi
	mariadb --socket="$MYSQL_SOCK" -uroot -e "
		CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
		CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
		GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
		GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" || die "could not create the slurm database user"
	conf_changed slurmdbd.conf && stop_ours slurmdbd
	start_daemon slurmdbd 6819 slurmdbd
	wait_for "$TIMEOUT" slurmdbd sacctmgr -n list cluster || die "slurmdbd does not respond to sacctmgr"
	if ! sacctmgr -n -P list cluster format=cluster | grep -qx lab; then
		sacctmgr -i add cluster lab >/dev/null || die "sacctmgr add cluster lab failed"
		conf_changed slurm.conf || changed+=(slurm.conf)   # slurmctld must re-register
	fi
fi

if conf_changed slurm.conf || conf_changed gres.conf || conf_changed cgroup.conf; then stop_ours slurmd; stop_ours slurmctld; fi
start_daemon slurmctld 6817 slurmctld
start_daemon slurmd 6818 slurmd

# --- 5. wait for the node -----------------------------------------------------------
end=$((SECONDS + TIMEOUT)); resumed=0; st=""
while :; do
	st=$(sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n1 || true)
	case $st in
	idle|mixed|allocated|completing) break ;;
	drain*|down*|fail*)
		if [ $resumed = 0 ] && [ $SECONDS -gt $((end - TIMEOUT + 5)) ]; then
			log "node $NODE is '$st' ($(sinfo -h -n "$NODE" -o %E)), trying state=resume"
			scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
			resumed=1
		fi ;;
	esac
	[ $SECONDS -lt $end ] || die "node $NODE not ready after ${TIMEOUT}s (state '${st:-no response from slurmctld}', reason '$(sinfo -h -n "$NODE" -o %E 2>/dev/null)')"
	sleep 0.3
done
log "cluster up: node $NODE is $st, CPUs=$CPUS RealMemory=${MEM_MB}M gpus=$FAKE_GPUS accounting=$ACCOUNTING ($(elapsed))"
[ "$CONF_DIR" = /etc/slurm ] || log "clients need: export SLURM_CONF=$SLURM_CONF"
