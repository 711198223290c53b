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
  /** REQUIRED. Soft limit. */
  soft: number;
  /** REQUIRED. Hard limit. */
  hard: number;
}

/** Linux capability sets of a process. */
export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
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

/** Linux scheduler settings. */
export interface Scheduler {
  /** REQUIRED. `SCHED_OTHER`, `SCHED_FIFO`, … */
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

/** A lifecycle hook. */
export interface Hook {
  /** REQUIRED. Absolute path of the executable. */
  path: string;
  args?: string[];
  env?: string[];
  /** OPTIONAL. Seconds before the hook is aborted; at least 1. */
  timeout?: number;
}

/** Lifecycle hooks. */
export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

/** A Linux namespace the container joins or creates. */
export interface Namespace {
  /** REQUIRED. */
  type: 'mount' | 'pid' | 'network' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';
  /** OPTIONAL. Join the namespace at this path instead of creating one. */
  path?: string;
}

/** A device node to create in the container. */
export interface Device {
  /** REQUIRED. `c`, `b`, `u` or `p`. */
  type: string;
  /** REQUIRED. Path in the container. */
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** A device cgroup rule. */
export interface DeviceCgroup {
  /** REQUIRED. */
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/** Cgroup resource limits (Linux). */
export interface LinuxResources {
  devices?: DeviceCgroup[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    kernel?: number;
    kernelTCP?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
    useHierarchy?: boolean;
    checkBeforeUpdate?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    burst?: number;
    period?: number;
    realtimeRuntime?: number;
    realtimePeriod?: number;
    cpus?: string;
    mems?: string;
    idle?: number;
  };
  pids?: { limit?: number };
  blockIO?: {
    weight?: number;
    leafWeight?: number;
    weightDevice?: { major: number; minor: number; weight?: number; leafWeight?: number }[];
    throttleReadBpsDevice?: { major: number; minor: number; rate: number }[];
    throttleWriteBpsDevice?: { major: number; minor: number; rate: number }[];
    throttleReadIOPSDevice?: { major: number; minor: number; rate: number }[];
    throttleWriteIOPSDevice?: { major: number; minor: number; rate: number }[];
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: StringMap;
  [key: string]: unknown;
}

/** A seccomp syscall rule. */
export interface SeccompSyscall {
  /** REQUIRED. At least one syscall name. */
  names: string[];
  /** REQUIRED. */
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[];
}

/** The Linux section of the runtime config. */
export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  devices?: Device[];
  netDevices?: Record<string, { name?: string }>;
  cgroupsPath?: string;
  resources?: LinuxResources;
  sysctl?: StringMap;
  seccomp?: {
    /** REQUIRED. */
    defaultAction: string;
    defaultErrnoRet?: number;
    architectures?: string[];
    flags?: string[];
    listenerPath?: string;
    listenerMetadata?: string;
    syscalls?: SeccompSyscall[];
  };
  rootfsPropagation?: 'private' | 'shared' | 'slave' | 'unbindable';
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain: 'LINUX' | 'LINUX32'; flags?: string[] };
  intelRdt?: {
    closID?: string;
    l3CacheSchema?: string;
    memBwSchema?: string;
    schemata?: string[];
    enableMonitoring?: boolean;
  };
  memoryPolicy?: { mode: string; nodes?: string; flags?: string[] };
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
  solaris?: Record<string, unknown>;
  /** OPTIONAL. Windows-specific settings. */
  windows?: Record<string, unknown>;
  /** OPTIONAL. Virtual-machine settings. */
  vm?: {
    hypervisor?: { path: string; parameters?: string[] };
    kernel: { path: string; parameters?: string[]; initrd?: string };
    image?: { path: string; format: string };
  };
  /** OPTIONAL. z/OS-specific settings. */
  zos?: Record<string, unknown>;
  /** OPTIONAL. FreeBSD-specific settings. */
  freebsd?: Record<string, unknown>;
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

/** What a runtime supports (features.md). */
export interface Features {
  /** REQUIRED. */
  ociVersionMin: string;
  /** REQUIRED. */
  ociVersionMax: string;
  hooks?: string[];
  mountOptions?: string[];
  linux?: Record<string, unknown>;
  annotations?: StringMap;
  potentiallyUnsafeConfigAnnotations?: string[];
  [key: string]: unknown;
}
