/** A string-to-string map. */
export type StringMap = Record<string, string>;

/** A mount (config.md "Mounts"). */
export interface Mount {
  /** REQUIRED. Absolute path inside the container. */
  destination: string;
  /** OPTIONAL. Device name, file or directory to mount. */
  source?: string;
  /** OPTIONAL. File system type (`proc`, `tmpfs`, `bind`, …). */
  type?: string;
  /** OPTIONAL. mount(8) options. */
  options?: string[];
  /** OPTIONAL. ID-mapped mount: user mappings. */
  uidMappings?: IdMapping[];
  /** OPTIONAL. ID-mapped mount: group mappings. */
  gidMappings?: IdMapping[];
}

/** A user-namespace ID mapping. */
export interface IdMapping {
  /** REQUIRED. First ID in the container. */
  containerID: number;
  /** REQUIRED. First ID on the host. */
  hostID: number;
  /** REQUIRED. Number of IDs mapped. */
  size: number;
}

/** The user a process runs as (POSIX platforms). */
export interface User {
  /** REQUIRED. User ID in the container namespace. */
  uid: number;
  /** REQUIRED. Group ID in the container namespace. */
  gid: number;
  /** OPTIONAL. The process's umask. */
  umask?: number;
  /** OPTIONAL. Additional group IDs. */
  additionalGids?: number[];
  /** OPTIONAL. User name (Windows). */
  username?: string;
}

/** A POSIX resource limit. */
export interface Rlimit {
  /** REQUIRED. `RLIMIT_NOFILE`, … */
  type: string;
  /** REQUIRED. Soft limit (`RLIM_INFINITY`: unlimited; write the spec with `stringifySpec`). */
  soft: number;
  /** REQUIRED. Hard limit (`RLIM_INFINITY`: unlimited). */
  hard: number;
}

/** Linux capability sets of a process. */
export interface Capabilities {
  /** OPTIONAL. The bounding set (`CAP_*` names). */
  bounding?: string[];
  /** OPTIONAL. The effective set. */
  effective?: string[];
  /** OPTIONAL. The inheritable set. */
  inheritable?: string[];
  /** OPTIONAL. The permitted set. */
  permitted?: string[];
  /** OPTIONAL. The ambient set. */
  ambient?: string[];
}

/** The container process (config.md "Process"). */
export interface Process {
  /** OPTIONAL. Attach a terminal. */
  terminal?: boolean;
  /** OPTIONAL. Console size when `terminal` is true. */
  consoleSize?: { height: number; width: number };
  /** REQUIRED. Working directory (absolute). */
  cwd: string;
  /** OPTIONAL. Environment, `NAME=VALUE`. */
  env?: string[];
  /** OPTIONAL (REQUIRED to start). The command and its arguments. */
  args?: string[];
  /** OPTIONAL. Windows command line. */
  commandLine?: string;
  /** OPTIONAL. Resource limits. */
  rlimits?: Rlimit[];
  /** OPTIONAL. AppArmor profile. */
  apparmorProfile?: string;
  /** OPTIONAL. Capabilities. */
  capabilities?: Capabilities;
  /** OPTIONAL. Set no_new_privileges. */
  noNewPrivileges?: boolean;
  /** OPTIONAL. oom_score_adj. */
  oomScoreAdj?: number;
  /** OPTIONAL. Scheduler settings (sched_setattr). */
  scheduler?: Scheduler;
  /** OPTIONAL. SELinux label. */
  selinuxLabel?: string;
  /** OPTIONAL. I/O priority. */
  ioPriority?: { class: 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE'; priority?: number };
  /** OPTIONAL. CPU affinity of the exec'd process. */
  execCPUAffinity?: { initial?: string; final?: string };
  /** REQUIRED on POSIX platforms. The user. */
  user?: User;
  [key: string]: unknown;
}

/** Linux scheduler settings (sched_setattr(2)). */
export interface Scheduler {
  /** REQUIRED. `SCHED_OTHER`, `SCHED_FIFO`, `SCHED_RR`, `SCHED_BATCH`, `SCHED_ISO`, `SCHED_IDLE` or `SCHED_DEADLINE`. */
  policy: string;
  /** OPTIONAL. Nice value for SCHED_OTHER and SCHED_BATCH. */
  nice?: number;
  /** OPTIONAL. Static priority for SCHED_FIFO and SCHED_RR. */
  priority?: number;
  /** OPTIONAL. `SCHED_FLAG_*` flags. */
  flags?: string[];
  /** OPTIONAL. SCHED_DEADLINE runtime, in nanoseconds. */
  runtime?: number;
  /** OPTIONAL. SCHED_DEADLINE deadline, in nanoseconds. */
  deadline?: number;
  /** OPTIONAL. SCHED_DEADLINE period, in nanoseconds. */
  period?: number;
}

/** A lifecycle hook. */
export interface Hook {
  /** REQUIRED. Absolute path of the executable. */
  path: string;
  /** OPTIONAL. Arguments, `argv[0]` included. */
  args?: string[];
  /** OPTIONAL. Environment, `NAME=VALUE`. */
  env?: string[];
  /** OPTIONAL. Seconds before the hook is aborted; at least 1. */
  timeout?: number;
}

/** Lifecycle hooks (POSIX platforms). */
export interface Hooks {
  /** OPTIONAL. Deprecated: runs after the namespaces are created, in the runtime namespace. */
  prestart?: Hook[];
  /** OPTIONAL. Runs during `create`, after the namespaces exist, in the runtime namespace. */
  createRuntime?: Hook[];
  /** OPTIONAL. Runs during `create`, in the container namespace, before pivot_root. */
  createContainer?: Hook[];
  /** OPTIONAL. Runs during `start`, in the container, before the user process. */
  startContainer?: Hook[];
  /** OPTIONAL. Runs after the user process has started, in the runtime namespace. */
  poststart?: Hook[];
  /** OPTIONAL. Runs after the container is deleted, in the runtime namespace. */
  poststop?: Hook[];
}

/** A Linux namespace the container joins or creates. */
export interface Namespace {
  /** REQUIRED. The namespace kind (`network`, not Docker's `net`). */
  type: 'mount' | 'pid' | 'network' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';
  /** OPTIONAL. Join the namespace at this path instead of creating one. */
  path?: string;
}

/** A device node to create in the container. */
export interface Device {
  /** REQUIRED. `c` (character), `b` (block), `u` (unbuffered character) or `p` (FIFO). */
  type: string;
  /** REQUIRED. Path in the container. */
  path: string;
  /** OPTIONAL (REQUIRED unless `p`). Major number. */
  major?: number;
  /** OPTIONAL (REQUIRED unless `p`). Minor number. */
  minor?: number;
  /** OPTIONAL. Permission bits, at most 0o777. */
  fileMode?: number;
  /** OPTIONAL. Owner ID in the container namespace. */
  uid?: number;
  /** OPTIONAL. Group ID in the container namespace. */
  gid?: number;
}

/** A device cgroup rule. */
export interface DeviceCgroup {
  /** REQUIRED. Allow (true) or deny (false) access. */
  allow: boolean;
  /** OPTIONAL. `a` (all), `c` or `b`. */
  type?: string;
  /** OPTIONAL. Major number; absent means all. */
  major?: number;
  /** OPTIONAL. Minor number; absent means all. */
  minor?: number;
  /** OPTIONAL. Any of `r`, `w`, `m`. */
  access?: string;
}

/** A block-I/O weight for one device. */
export interface WeightDevice {
  /** REQUIRED. Device major number. */
  major: number;
  /** REQUIRED. Device minor number. */
  minor: number;
  /** OPTIONAL. Bandwidth weight, 10–1000. */
  weight?: number;
  /** OPTIONAL. Weight in the cgroup compared with its children. */
  leafWeight?: number;
}

/** A block-I/O rate limit for one device. */
export interface ThrottleDevice {
  /** REQUIRED. Device major number. */
  major: number;
  /** REQUIRED. Device minor number. */
  minor: number;
  /** REQUIRED. Bytes or operations per second. */
  rate: number;
}

/** Memory cgroup settings; byte values, -1 meaning unlimited. */
export interface MemoryResources {
  /** OPTIONAL. Memory usage limit. */
  limit?: number;
  /** OPTIONAL. Soft limit. */
  reservation?: number;
  /** OPTIONAL. Memory plus swap limit. */
  swap?: number;
  /** OPTIONAL. Deprecated: kernel memory limit. */
  kernel?: number;
  /** OPTIONAL. Kernel TCP buffer limit. */
  kernelTCP?: number;
  /** OPTIONAL. Swappiness, 0–100. */
  swappiness?: number;
  /** OPTIONAL. Disable the OOM killer. */
  disableOOMKiller?: boolean;
  /** OPTIONAL. Enable hierarchical accounting (cgroup v1). */
  useHierarchy?: boolean;
  /** OPTIONAL. Refuse to set a limit below current usage. */
  checkBeforeUpdate?: boolean;
}

/** CPU and cpuset cgroup settings. */
export interface CpuResources {
  /** OPTIONAL. Relative share of CPU time. */
  shares?: number;
  /** OPTIONAL. CPU time (µs) allowed per `period`. */
  quota?: number;
  /** OPTIONAL. Burst CPU time (µs) per period. */
  burst?: number;
  /** OPTIONAL. CFS period, in µs. */
  period?: number;
  /** OPTIONAL. Real-time runtime (µs) per `realtimePeriod`. */
  realtimeRuntime?: number;
  /** OPTIONAL. Real-time period, in µs. */
  realtimePeriod?: number;
  /** OPTIONAL. CPUs the container may use, e.g. `0-3,7`. */
  cpus?: string;
  /** OPTIONAL. Memory nodes the container may use. */
  mems?: string;
  /** OPTIONAL. Set SCHED_IDLE for the cgroup (0 or 1). */
  idle?: number;
}

/** Block-I/O cgroup settings. */
export interface BlockIoResources {
  /** OPTIONAL. Default weight, 10–1000. */
  weight?: number;
  /** OPTIONAL. Weight compared with children. */
  leafWeight?: number;
  /** OPTIONAL. Per-device weights. */
  weightDevice?: WeightDevice[];
  /** OPTIONAL. Per-device read bytes/s limits. */
  throttleReadBpsDevice?: ThrottleDevice[];
  /** OPTIONAL. Per-device write bytes/s limits. */
  throttleWriteBpsDevice?: ThrottleDevice[];
  /** OPTIONAL. Per-device read IO/s limits. */
  throttleReadIOPSDevice?: ThrottleDevice[];
  /** OPTIONAL. Per-device write IO/s limits. */
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

/** Cgroup resource limits (Linux). */
export interface LinuxResources {
  /** OPTIONAL. Device cgroup rules, in order. */
  devices?: DeviceCgroup[];
  /** OPTIONAL. Memory limits. */
  memory?: MemoryResources;
  /** OPTIONAL. CPU limits. */
  cpu?: CpuResources;
  /** OPTIONAL. Process-count limit (`limit` REQUIRED when present; -1 unlimited). */
  pids?: { limit?: number };
  /** OPTIONAL. Block-I/O limits. */
  blockIO?: BlockIoResources;
  /** OPTIONAL. Hugetlb limits: `pageSize` (e.g. `2MB`) and `limit` in bytes, both REQUIRED. */
  hugepageLimits?: { pageSize: string; limit: number }[];
  /** OPTIONAL. Network class ID and interface priorities (cgroup v1). */
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  /** OPTIONAL. RDMA limits keyed by device name. */
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** OPTIONAL. cgroup v2 files and values, written as given. */
  unified?: StringMap;
  [key: string]: unknown;
}

/** A seccomp syscall rule. */
export interface SeccompSyscall {
  /** REQUIRED. At least one syscall name. */
  names: string[];
  /** REQUIRED. `SCMP_ACT_*`. */
  action: string;
  /** OPTIONAL. errno for SCMP_ACT_ERRNO / SCMP_ACT_TRACE. */
  errnoRet?: number;
  /** OPTIONAL. Argument filters: `index`, `value`, `op` REQUIRED. */
  args?: { index: number; value: number; valueTwo?: number; op: string }[];
}

/** The seccomp filter of a container. */
export interface Seccomp {
  /** REQUIRED. Action when no rule matches (`SCMP_ACT_*`). */
  defaultAction: string;
  /** OPTIONAL. errno for the default action. */
  defaultErrnoRet?: number;
  /** OPTIONAL. `SCMP_ARCH_*` the filter also covers. */
  architectures?: string[];
  /** OPTIONAL. `SECCOMP_FILTER_FLAG_*`. */
  flags?: string[];
  /** OPTIONAL. Unix socket that receives SCMP_ACT_NOTIFY file descriptors. */
  listenerPath?: string;
  /** OPTIONAL. Opaque data sent to the listener. */
  listenerMetadata?: string;
  /** OPTIONAL. Rules, in order. */
  syscalls?: SeccompSyscall[];
}

/** The Linux section of the runtime config (config-linux.md). */
export interface Linux {
  /** OPTIONAL. Namespaces to create or join. */
  namespaces?: Namespace[];
  /** OPTIONAL. User-namespace UID mappings. */
  uidMappings?: IdMapping[];
  /** OPTIONAL. User-namespace GID mappings. */
  gidMappings?: IdMapping[];
  /** OPTIONAL. Time-namespace offsets keyed by clock (`monotonic`, `boottime`). */
  timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  /** OPTIONAL. Device nodes to create. */
  devices?: Device[];
  /** OPTIONAL. Host network devices to move into the container, keyed by host name. */
  netDevices?: Record<string, { name?: string }>;
  /** OPTIONAL. Cgroup path (or `slice:prefix:name` with systemd). */
  cgroupsPath?: string;
  /** OPTIONAL. Cgroup resource limits. */
  resources?: LinuxResources;
  /** OPTIONAL. Kernel parameters set in the container. */
  sysctl?: StringMap;
  /** OPTIONAL. The seccomp filter. */
  seccomp?: Seccomp;
  /** OPTIONAL. Propagation of the root mount. */
  rootfsPropagation?: 'private' | 'shared' | 'slave' | 'unbindable';
  /** OPTIONAL. Paths masked (made unreadable) in the container. */
  maskedPaths?: string[];
  /** OPTIONAL. Paths remounted read-only in the container. */
  readonlyPaths?: string[];
  /** OPTIONAL. SELinux context for the mounts. */
  mountLabel?: string;
  /** OPTIONAL. Execution domain (personality(2)); `domain` REQUIRED. */
  personality?: { domain: 'LINUX' | 'LINUX32'; flags?: string[] };
  /** OPTIONAL. Intel RDT (resctrl) class of service. */
  intelRdt?: {
    /** OPTIONAL. resctrl group name. */
    closID?: string;
    /** OPTIONAL. L3 cache schema line. */
    l3CacheSchema?: string;
    /** OPTIONAL. Memory bandwidth schema line, starting `MB:`. */
    memBwSchema?: string;
    /** OPTIONAL. Schemata lines written as given. */
    schemata?: string[];
    /** OPTIONAL. Enable resctrl monitoring. */
    enableMonitoring?: boolean;
  };
  /** OPTIONAL. NUMA memory policy (set_mempolicy(2)); `mode` REQUIRED. */
  memoryPolicy?: { mode: string; nodes?: string; flags?: string[] };
  [key: string]: unknown;
}

/** The Solaris section (config-solaris.md). */
export interface Solaris {
  /** OPTIONAL. SMF FMRI the container waits for. */
  milestone?: string;
  /** OPTIONAL. Maximum privilege set. */
  limitpriv?: string;
  /** OPTIONAL. Maximum shared memory. */
  maxShmMemory?: string;
  /** OPTIONAL. CPU cap. */
  cappedCPU?: { ncpus?: string };
  /** OPTIONAL. Memory caps. */
  cappedMemory?: { physical?: string; swap?: string };
  /** OPTIONAL. Automatic VNICs. */
  anet?: {
    linkname?: string;
    lowerLink?: string;
    allowedAddress?: string;
    configureAllowedAddress?: string;
    defrouter?: string;
    linkProtection?: string;
    macAddress?: string;
  }[];
  [key: string]: unknown;
}

/** The Windows section (config-windows.md). */
export interface Windows {
  /** REQUIRED by config-windows.md (not by the schema). Layer folders, base layer last. */
  layerFolders?: string[];
  /** OPTIONAL. Devices by `id` and `idType`. */
  devices?: { id: string; idType: string }[];
  /** OPTIONAL. Resource limits. */
  resources?: {
    memory?: { limit?: number };
    cpu?: { count?: number; shares?: number; maximum?: number; affinity?: unknown[] };
    storage?: { iops?: number; bps?: number; sandboxSize?: number };
  };
  /** OPTIONAL. Group-managed service account credential spec. */
  credentialSpec?: unknown;
  /** OPTIONAL. Whether this is a servicing operation. */
  servicing?: boolean;
  /** OPTIONAL. Ignore flush requests during boot. */
  ignoreFlushesDuringBoot?: boolean;
  /** OPTIONAL. Run as a Hyper-V container. */
  hyperv?: { utilityVMPath?: string };
  /** OPTIONAL. Network settings. */
  network?: {
    endpointList?: string[];
    allowUnqualifiedDNSQuery?: boolean;
    DNSSearchList?: string[];
    networkSharedContainerName?: string;
    networkNamespace?: string;
  };
  [key: string]: unknown;
}

/** The virtual-machine section (config-vm.md). */
export interface Vm {
  /** OPTIONAL. The hypervisor; `path` REQUIRED. */
  hypervisor?: { path: string; parameters?: string[] };
  /** REQUIRED. The guest kernel; `path` REQUIRED. */
  kernel: { path: string; parameters?: string[]; initrd?: string };
  /** OPTIONAL. The root image; `path` and `format` REQUIRED. */
  image?: { path: string; format: string };
}

/** The z/OS section (config-zos.md). */
export interface Zos {
  /** OPTIONAL. Namespaces to create or join. */
  namespaces?: { type: 'pid' | 'mount' | 'ipc' | 'uts'; path?: string }[];
  [key: string]: unknown;
}

/** Jail sharing mode: create a new one, inherit the parent's, or (where allowed) disable. */
export type FreeBsdSharing = 'new' | 'inherit' | 'disable';

/** The FreeBSD section (config-freebsd.md). */
export interface FreeBsd {
  /** OPTIONAL. devfs rules: `path` REQUIRED, `mode` OPTIONAL. */
  devices?: { path: string; mode?: number }[];
  /** OPTIONAL. Jail parameters. */
  jail?: {
    /** OPTIONAL. Parent jail. */
    parent?: string;
    /** OPTIONAL. Hostname namespace: `new` or `inherit`. */
    host?: 'new' | 'inherit';
    /** OPTIONAL. IPv4 sharing mode. */
    ip4?: FreeBsdSharing;
    /** OPTIONAL. IPv4 addresses. */
    ip4Addr?: string[];
    /** OPTIONAL. IPv6 sharing mode. */
    ip6?: FreeBsdSharing;
    /** OPTIONAL. IPv6 addresses. */
    ip6Addr?: string[];
    /** OPTIONAL. Virtual network stack: `new` or `inherit`. */
    vnet?: 'new' | 'inherit';
    /** OPTIONAL. Interface for the jail's addresses. */
    interface?: string;
    /** OPTIONAL. Interfaces moved into the vnet. */
    vnetInterfaces?: string[];
    /** OPTIONAL. SysV message queue sharing. */
    sysvmsg?: FreeBsdSharing;
    /** OPTIONAL. SysV semaphore sharing. */
    sysvsem?: FreeBsdSharing;
    /** OPTIONAL. SysV shared memory sharing. */
    sysvshm?: FreeBsdSharing;
    /** OPTIONAL. Which mounts statfs shows (0–2). */
    enforceStatfs?: number;
    /** OPTIONAL. `allow.*` jail parameters. */
    allow?: Record<string, unknown>;
  };
  [key: string]: unknown;
}

/** A runtime configuration, `config.json` of a bundle (config.md). */
export interface Spec {
  /** REQUIRED. The runtime-spec version the config follows. */
  ociVersion: string;
  /** OPTIONAL (REQUIRED on most platforms). The root file system. */
  root?: { path: string; readonly?: boolean };
  /** OPTIONAL. The container process. */
  process?: Process;
  /** OPTIONAL. Hostname in the UTS namespace. */
  hostname?: string;
  /** OPTIONAL. Domain name in the UTS namespace. */
  domainname?: string;
  /** OPTIONAL. Mounts in order. */
  mounts?: Mount[];
  /** OPTIONAL. Lifecycle hooks (POSIX). */
  hooks?: Hooks;
  /** OPTIONAL. Arbitrary metadata. */
  annotations?: StringMap;
  /** OPTIONAL. Linux-specific settings. */
  linux?: Linux;
  /** OPTIONAL. Solaris-specific settings. */
  solaris?: Solaris;
  /** OPTIONAL. Windows-specific settings. */
  windows?: Windows;
  /** OPTIONAL. Virtual-machine settings. */
  vm?: Vm;
  /** OPTIONAL. z/OS-specific settings. */
  zos?: Zos;
  /** OPTIONAL. FreeBSD-specific settings. */
  freebsd?: FreeBsd;
  [key: string]: unknown;
}

/** The state of a container (runtime.md "State"). */
export interface State {
  /** REQUIRED. */
  ociVersion: string;
  /** REQUIRED. Container ID. */
  id: string;
  /** REQUIRED. `creating`, `created`, `running` or `stopped`. */
  status: 'creating' | 'created' | 'running' | 'stopped';
  /** REQUIRED on Linux when created or running. */
  pid?: number;
  /** REQUIRED. Absolute path of the bundle. */
  bundle: string;
  /** OPTIONAL. */
  annotations?: StringMap;
}

/** What a runtime supports (features.md), as printed by `runc features`. */
export interface Features {
  /** REQUIRED. Oldest runtime-spec version supported. */
  ociVersionMin: string;
  /** REQUIRED. Newest runtime-spec version supported. */
  ociVersionMax: string;
  /** OPTIONAL. Hook names supported. */
  hooks?: string[];
  /** OPTIONAL. Mount options recognized. */
  mountOptions?: string[];
  /** OPTIONAL. Linux features; absent means unknown. */
  linux?: LinuxFeatures;
  /** OPTIONAL. Implementation facts (`io.github.seccomp.libseccomp.version`, …). */
  annotations?: StringMap;
  /** OPTIONAL. Annotation names (or `prefix.` forms) that may change the config in unsafe ways. */
  potentiallyUnsafeConfigAnnotations?: string[];
  [key: string]: unknown;
}

/** The Linux part of a features document. */
export interface LinuxFeatures {
  /** OPTIONAL. Namespace types supported. */
  namespaces?: string[];
  /** OPTIONAL. Capabilities known. */
  capabilities?: string[];
  /** OPTIONAL. Cgroup drivers and versions. */
  cgroup?: { v1?: boolean; v2?: boolean; systemd?: boolean; systemdUser?: boolean; rdma?: boolean };
  /** OPTIONAL. Seccomp support. */
  seccomp?: {
    enabled?: boolean;
    actions?: string[];
    operators?: string[];
    archs?: string[];
    knownFlags?: string[];
    supportedFlags?: string[];
  };
  /** OPTIONAL. AppArmor support. */
  apparmor?: { enabled?: boolean };
  /** OPTIONAL. SELinux support. */
  selinux?: { enabled?: boolean };
  /** OPTIONAL. Intel RDT support. */
  intelRdt?: { enabled?: boolean; schemata?: boolean };
  /** OPTIONAL. ID-mapped mount support. */
  mountExtensions?: { idmap?: { enabled?: boolean } };
  [key: string]: unknown;
}
