/**
 * The engine contract: the operations every container engine driver may offer, with the types they
 * take and give. Drivers (Docker Engine API, Podman libpod, ocikit's local engine, your own) supply
 * a {@link Handlers} object; the `Engine` client calls them. Shapes follow the Docker Engine
 * API where it has one (so Docker's and Podman's answers map without loss), in camelCase, with
 * times as RFC 3339 strings and sizes in bytes.
 */

/** Options every operation takes. */
export interface CallOptions {
  /** Cancels the operation; the engine client always passes one (with its timeout folded in). */
  signal?: AbortSignal | undefined;
}

/** What a driver reports of the engine it connected to (`docker version`). */
export interface EngineVersion {
  /** The engine's product name: `Docker Engine - Community`, `Podman Engine`, `ocikit`. */
  name: string;
  /** The engine's version (`20.10.24`, `4.3.1`, `0.1.0`). */
  version: string;
  /** The API version spoken on this connection (`1.41`), when the engine has one. */
  apiVersion?: string | undefined;
  /** The engine host's operating system (`linux`). */
  os: string;
  /** The engine host's architecture in Go's terms (`amd64`). */
  arch: string;
  /** The engine host's kernel version. */
  kernelVersion?: string | undefined;
}

/** What a driver reports of the engine's state (`docker info`). */
export interface EngineInfo {
  /** The engine's own id, when it has one. */
  id?: string | undefined;
  /** Containers it has, in all states. */
  containers: number;
  /** Of those, running now. */
  containersRunning: number;
  /** Of those, paused now. */
  containersPaused: number;
  /** Of those, stopped (created or exited). */
  containersStopped: number;
  /** Images it stores. */
  images: number;
  /** The storage driver or snapshotter (`overlay2`, `overlayfs`, `vfs`). */
  storageDriver?: string | undefined;
  /** Where it keeps its state. */
  root?: string | undefined;
  /** The default OCI runtime (`runc`). */
  defaultRuntime?: string | undefined;
  /** The cgroup driver (`cgroupfs`, `systemd`). */
  cgroupDriver?: string | undefined;
  /** The engine's own answer, untouched, for what the contract does not name. */
  raw: unknown;
}

/** A progress event of a pull or push, as the engine reports it (Docker's JSON message stream). */
export interface ProgressEvent {
  /** The layer (short digest or id) the event is about; absent for whole-image events. */
  id?: string | undefined;
  /** What happened: `Pulling fs layer`, `Downloading`, `Download complete`, `Pull complete`, … */
  status: string;
  /** Bytes done so far, for `Downloading`/`Extracting`/`Pushing`. */
  current?: number | undefined;
  /** Bytes in all, when known. */
  total?: number | undefined;
}

/** Registry credentials for one pull or push (never logged, never in errors). */
export type RegistryAuth =
  | { username: string; password: string; serveraddress?: string | undefined }
  | { identityToken: string; serveraddress?: string | undefined };

/** Options of `images.pull`. */
export interface PullOptions extends CallOptions {
  /** The platform to pull (`linux/arm64`); the engine's own by default. */
  platform?: string | undefined;
  /** Every platform of a multi-platform image (podman's `--all-tags`-like `allPlatforms`); not Docker. */
  allPlatforms?: boolean | undefined;
  /**
   * When to go to the registry: `always` (default), `missing` (only when the engine lacks it),
   * `never` (fail unless present), `newer` (when the registry's digest differs).
   */
  policy?: 'always' | 'missing' | 'never' | 'newer' | undefined;
  /** Verify the registry's TLS certificate (podman's `tlsVerify`; default true). */
  tlsVerify?: boolean | undefined;
  /** Credentials for the registry. */
  auth?: RegistryAuth | undefined;
  /** Called for every progress event, in order. */
  onProgress?: ((event: ProgressEvent) => void) | undefined;
}

/** What `images.pull` gives. */
export interface PulledImage {
  /** The full normalized name it is stored under (`docker.io/library/busybox:latest`). */
  name: string;
  /** The image id (the config digest, `sha256:…`). */
  id: string;
  /** The manifest (or index) digest it was pulled by, when the engine says. */
  digest?: string | undefined;
}

/** Options of `images.push`. */
export interface PushOptions extends CallOptions {
  /** Credentials for the registry. */
  auth?: RegistryAuth | undefined;
  /** Verify the registry's TLS certificate (default true). */
  tlsVerify?: boolean | undefined;
  /** Called for every progress event, in order. */
  onProgress?: ((event: ProgressEvent) => void) | undefined;
}

/** What `images.push` gives. */
export interface PushedImage {
  /** The manifest digest the registry now has. */
  digest?: string | undefined;
}

/** One image of `images.list`. */
export interface ImageSummary {
  /** The image id (config digest, `sha256:…`). */
  id: string;
  /** Full names it is tagged with (`docker.io/library/busybox:latest`); empty for a dangling image. */
  repoTags: string[];
  /** `name@digest` forms it is known by. */
  repoDigests: string[];
  /** When the image was made (its config's `created`), RFC 3339. */
  created?: string | undefined;
  /**
   * Its size in bytes as the engine counts it, uncompressed on every engine: Docker's the layers'
   * unpacked size, podman's (and local's, as podman's) that plus its config and manifests.
   */
  size: number;
  /** The platform (`linux/amd64`), when the engine says. */
  platform?: string | undefined;
  /** Its config labels. */
  labels: Record<string, string>;
  /** The media type of the manifest or index it is stored as, when the engine says (local). */
  mediaType?: string | undefined;
}

/** Options of `images.list`. */
export interface ImageListOptions extends CallOptions {
  /** Include intermediate/dangling images. */
  all?: boolean | undefined;
  /** Only images whose name matches this reference (`busybox`, `busybox:1.36`). */
  reference?: string | undefined;
}

/** The container-facing part of an image config (image-spec's `config`, Docker's `Config`). */
export interface ImageRunConfig {
  /** The user the process runs as. */
  user?: string | undefined;
  /** Environment, `K=V`. */
  env: string[];
  /** The entrypoint. */
  entrypoint?: string[] | undefined;
  /** The default command. */
  cmd?: string[] | undefined;
  /** The working directory. */
  workingDir?: string | undefined;
  /** Ports it exposes (`80/tcp`). */
  exposedPorts: string[];
  /** Paths it declares as volumes. */
  volumes: string[];
  /** Its labels. */
  labels: Record<string, string>;
  /** The signal that stops it. */
  stopSignal?: string | undefined;
}

/** What `images.inspect` gives. */
export interface ImageDetails extends ImageSummary {
  /** The OS it runs on. */
  os: string;
  /** The architecture (`amd64`). */
  architecture: string;
  /** The architecture variant (`v8`), if any. */
  variant?: string | undefined;
  /** How the container runs by default. */
  config: ImageRunConfig;
  /** Uncompressed layer digests, bottom first. */
  diffIds: string[];
  /** The config's `author`, if any. */
  author?: string | undefined;
  /** The engine's own answer, untouched. */
  raw: unknown;
}

/** Options of `images.remove`. */
export interface ImageRemoveOptions extends CallOptions {
  /** Remove even when containers use it or it has several tags. */
  force?: boolean | undefined;
}

/** One line of what `images.remove` did (Docker's `Untagged`/`Deleted`). */
export interface ImageRemoved {
  /** A name that was untagged. */
  untagged?: string | undefined;
  /** An image id that was deleted. */
  deleted?: string | undefined;
}

/** Options of `images.load`. */
export interface LoadOptions extends CallOptions {
  /** Called for every progress event. */
  onProgress?: ((event: ProgressEvent) => void) | undefined;
}

/** A mount of a container. */
export type MountSpec =
  | {
      /** A host path bound into the container. */
      type: 'bind';
      /** The absolute host path. */
      source: string;
      /** The absolute path in the container. */
      target: string;
      /** Mount it read-only. */
      readOnly?: boolean | undefined;
    }
  | {
      /** A fresh tmpfs. */
      type: 'tmpfs';
      /** The absolute path in the container. */
      target: string;
      /** Mount options (`size=64m`, `mode=1777`, `noexec`). */
      options?: string[] | undefined;
    }
  | {
      /** An engine volume: a named one (made on first use) or, without `source`, a fresh anonymous one. */
      type: 'volume';
      /** The volume's name; absent for an anonymous volume the engine names (and removes with the container under `autoRemove`). */
      source?: string | undefined;
      /** The absolute path in the container. */
      target: string;
      /** Mount it read-only. */
      readOnly?: boolean | undefined;
      /** Do not fill a new volume from the image's files at `target` (Docker's `volume-nocopy`). */
      noCopy?: boolean | undefined;
    };

/** A terminal size. */
export interface ConsoleSize {
  /** Rows (height). */
  rows: number;
  /** Columns (width). */
  columns: number;
}

/** What `containers.create` makes: everything `docker create`/`ocikit create` flags say. */
export interface ContainerSpec {
  /** The image, by name or id. */
  image: string;
  /** A name for the container (unique in the engine). */
  name?: string | undefined;
  /** The command (replaces the image's `Cmd`). */
  cmd?: string[] | undefined;
  /** The entrypoint (replaces the image's; `[]` clears it). */
  entrypoint?: string[] | undefined;
  /** Extra environment, `K=V`, over the image's. */
  env?: string[] | undefined;
  /** The working directory (absolute). */
  workingDir?: string | undefined;
  /** `user[:group]`, names resolved in the image. */
  user?: string | undefined;
  /** The host name (default: the short id). */
  hostname?: string | undefined;
  /** Give the process a terminal. */
  tty?: boolean | undefined;
  /** Keep stdin open for attach (`-i`). */
  openStdin?: boolean | undefined;
  /** The terminal's starting size, when `tty`. */
  consoleSize?: ConsoleSize | undefined;
  /** Labels on the container. */
  labels?: Record<string, string> | undefined;
  /** Mounts over the image's root file system. */
  mounts?: MountSpec[] | undefined;
  /**
   * Containers whose volumes (and bind mounts) this one mounts too, at the same paths: `NAME` or
   * `NAME:ro`/`NAME:rw` (Docker's `--volumes-from`; the other container's modes unless a suffix says).
   */
  volumesFrom?: string[] | undefined;
  /** Mount the root file system read-only. */
  readOnlyRootfs?: boolean | undefined;
  /**
   * `none` (loopback only), `host`, `bridge` (the engine's default network), or an engine network
   * name. Docker's and Podman's default is `bridge`; the local engine's is `none` (it makes no
   * bridge or firewall rule on the host unless asked).
   */
  network?: string | undefined;
  /** A fixed IPv4 address on that network (`--ip`). */
  ipAddress?: string | undefined;
  /** A fixed IPv6 address on that network (`--ip6`), which must be a dual-stack one. */
  ip6Address?: string | undefined;
  /** Ports to publish on the host (`-p`). */
  publish?: PortBinding[] | undefined;
  /** Publish every port the image exposes (and `exposedPorts`) on a free host port (`-P`). */
  publishAll?: boolean | undefined;
  /** More ports to expose (`--expose`, `80/tcp`), published by `publishAll`. */
  exposedPorts?: string[] | undefined;
  /** Name servers for the container's `/etc/resolv.conf` (`--dns`). */
  dns?: string[] | undefined;
  /** Search domains for `/etc/resolv.conf` (`--dns-search`). */
  dnsSearch?: string[] | undefined;
  /** Resolver options for `/etc/resolv.conf` (`--dns-option`). */
  dnsOptions?: string[] | undefined;
  /** Extra `/etc/hosts` lines, `NAME:IP` (`--add-host`). */
  extraHosts?: string[] | undefined;
  /** More names other containers on its networks reach it by (`--network-alias`). */
  networkAliases?: string[] | undefined;
  /** Capabilities to add (`NET_ADMIN`, `ALL`). */
  capAdd?: string[] | undefined;
  /** Capabilities to drop. */
  capDrop?: string[] | undefined;
  /** Memory limit in bytes. */
  memory?: number | undefined;
  /** CPU limit in billionths of a CPU (Docker's `NanoCpus`: 1.5 CPUs is 1_500_000_000). */
  nanoCpus?: number | undefined;
  /** Most processes at once. */
  pidsLimit?: number | undefined;
  /** Resource limits of its process (`--ulimit`), over the engine's defaults for the same names. */
  ulimits?: Ulimit[] | undefined;
  /**
   * Kernel parameters set in its own namespaces (`--sysctl`): `net.*` (not with the host's network),
   * `kernel.msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced`, `fs.mqueue.*` — the
   * namespaced ones podman and Docker accept.
   */
  sysctls?: Record<string, string> | undefined;
  /** Run an init as PID 1 that forwards signals and reaps zombies, the command its child (`--init`). */
  init?: boolean | undefined;
  /**
   * Every capability (that the engine's own bounding set has), every host device, nothing masked in
   * `/proc` and `/sys`, `/sys` writable (`--privileged`).
   */
  privileged?: boolean | undefined;
  /**
   * Docker's `HostConfig.SecurityOpt`: `no-new-privileges[:true|false]`, `seccomp=unconfined`. The
   * local engine takes only these (it applies no seccomp profile: `seccomp=unconfined` is what it does).
   */
  securityOpt?: string[] | undefined;
  /** Host devices made in the container (`--device`), each with a device cgroup rule. */
  devices?: DeviceMapping[] | undefined;
  /** Supplementary groups of its process (`--group-add`): gids, or group names of the image's `/etc/group`. */
  groupAdd?: string[] | undefined;
  /** The size of its `/dev/shm` in bytes (`--shm-size`; the engine's default is 64 MiB). */
  shmSize?: number | undefined;
  /** Remove the container when it exits. */
  autoRemove?: boolean | undefined;
  /** The signal `containers.stop` sends first (the image's `StopSignal` by default). */
  stopSignal?: string | undefined;
  /** Seconds `containers.stop` waits before SIGKILL when the call gives no timeout (default 10). */
  stopTimeout?: number | undefined;
  /** The OCI runtime (`runc`, `crun`, a path), where the engine lets the caller choose. */
  runtime?: string | undefined;
  /** The image platform, when it must be pulled. */
  platform?: string | undefined;
}

/** A host device in the container (`--device HOST[:CONTAINER[:PERMS]]`), as Docker's `HostConfig.Devices` entries. */
export interface DeviceMapping {
  /**
   * The device node on the host (absolute), or a directory: every character and block node under it
   * (subdirectories too, links not followed) at the same path under `pathInContainer`, as podman.
   */
  pathOnHost: string;
  /** Where it is in the container (absolute; the host path by default). */
  pathInContainer: string;
  /** What the container may do with it: any of `r` (read), `w` (write), `m` (mknod); `rwm` by default. */
  cgroupPermissions: string;
}

/** One resource limit (`--ulimit nofile=1024:2048`), as Docker's `HostConfig.Ulimits` entries. */
export interface Ulimit {
  /** Docker's name: `nofile`, `nproc`, `core`, `memlock`, `stack`… (RLIMIT_ without its prefix, lower case). */
  name: string;
  /** The soft limit (-1: unlimited). */
  soft: number;
  /** The hard limit (-1: unlimited), at least the soft one. */
  hard: number;
}

/** A port published on the host (`-p [IP:][HOST:]CONTAINER[/PROTO]`). */
export interface PortBinding {
  /** The port in the container. */
  containerPort: number;
  /** `tcp` (default), `udp` or `sctp`. */
  protocol?: 'tcp' | 'udp' | 'sctp' | undefined;
  /** The host port; absent or 0 for one the engine picks. */
  hostPort?: number | undefined;
  /** The host address to listen on; absent for every address. */
  hostIp?: string | undefined;
}

/** Options of `containers.create`. */
export interface CreateOptions extends CallOptions {
  /** Pull the image first: `missing` (default: as the docker CLI, pull when the engine lacks it), `always`, `never`. */
  pull?: 'missing' | 'always' | 'never' | undefined;
  /** Options for that pull (credentials, progress). */
  pullOptions?: Omit<PullOptions, 'signal' | 'platform' | 'policy'> | undefined;
}

/** What `containers.create` gives. */
export interface CreatedContainer {
  /** The full container id. */
  id: string;
  /** Warnings the engine gave. */
  warnings: string[];
}

/** A container's state, as Docker names them. */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** One container of `containers.list`. */
export interface ContainerSummary {
  /** The full id. */
  id: string;
  /** Its name (without Docker's leading `/`). */
  name: string;
  /** The image as the user gave it. */
  image: string;
  /** The image id (`sha256:…`), when known. */
  imageId?: string | undefined;
  /**
   * The command it runs, as the engine shows it: Docker's engine joins the path and arguments with
   * spaces, an argument holding a space in single quotes (`sh -c 'sleep 10'`).
   */
  command: string;
  /** When it was created, RFC 3339. */
  created: string;
  /** Its state. */
  state: ContainerState;
  /**
   * The engine's human status (`Up 5 seconds`, `Up 2 hours (Paused)`, `Exited (0) 2 minutes ago`,
   * `Created`), worded at list time; `containerStatus` words it for engines that give only facts.
   */
  status: string;
  /** Its labels. */
  labels: Record<string, string>;
  /** The host pid of its first process while it runs, when the engine lists it (podman, local). */
  pid?: number | undefined;
  /** Its exit code once exited, when the engine lists it (podman, local). */
  exitCode?: number | undefined;
  /** When it last started, RFC 3339, when the engine lists it (podman, local). */
  startedAt?: string | undefined;
  /** When it last exited, RFC 3339, when the engine lists it (podman, local). */
  finishedAt?: string | undefined;
  /** Whether it is removed when it exits, when the engine lists it (podman, local). */
  autoRemove?: boolean | undefined;
  /**
   * Its published ports, when the engine lists them (`0.0.0.0:8080->80/tcp` in `ps`), and the ports
   * it exposes without publishing them, with `hostPort` 0 and `hostIp` `''` (`80/tcp` in `ps`), when
   * the engine lists those (Docker's).
   */
  ports?: PublishedPort[] | undefined;
  /** The networks it is attached to, by name, when the engine lists them. */
  networks?: string[] | undefined;
  /**
   * Its bind and volume mounts (and tmpfs volumes), when the engine lists them (Docker's `Mounts`
   * of `/containers/json`; `ps --filter volume=` reads them).
   */
  mounts?: ContainerMount[] | undefined;
  /**
   * With `size` asked: the bytes of the files it wrote in its writable layer (Docker's `SizeRw`,
   * podman's `rwSize`; apparent sizes of files and links, a hard-linked file once).
   */
  sizeRw?: number | undefined;
  /**
   * With `size` asked: its root file system's bytes as the engine counts them (Docker's `SizeRootFs`:
   * the image's layers and the writable one; podman's `rootFsSize` and local's: the image's layers).
   * `ps -s` prints `sizeRw (virtual sizeRootFs)`.
   */
  sizeRootFs?: number | undefined;
}

/** A published port as an engine reports it (`docker port`). */
export interface PublishedPort {
  /** The port in the container. */
  containerPort: number;
  /** `tcp`, `udp` or `sctp`. */
  protocol: 'tcp' | 'udp' | 'sctp';
  /** The host port. */
  hostPort: number;
  /** The host address (`0.0.0.0` for every address). */
  hostIp: string;
}

/** A container's attachment to one network, as `containers.inspect` reports it. */
export interface ContainerNetwork {
  /** The network's name. */
  name: string;
  /** The network's id, when the engine has one. */
  networkId?: string | undefined;
  /** Its IPv4 address on the network (`10.88.0.5`); empty while not running, on engines that release it. */
  ipAddress: string;
  /** The prefix length of that address. */
  ipPrefixLen?: number | undefined;
  /** The network's gateway. */
  gateway?: string | undefined;
  /** Its IPv6 address on a dual-stack network (Docker's `GlobalIPv6Address`). */
  globalIpv6Address?: string | undefined;
  /** The prefix length of that address (Docker's `GlobalIPv6PrefixLen`). */
  globalIpv6PrefixLen?: number | undefined;
  /** The network's IPv6 gateway (Docker's `IPv6Gateway`). */
  ipv6Gateway?: string | undefined;
  /** Its interface's MAC address. */
  macAddress?: string | undefined;
  /** Names others on the network reach it by (its name, short id, `networkAliases`). */
  aliases: string[];
}

/** Options of `containers.list`. */
export interface ContainerListOptions extends CallOptions {
  /** Include containers that are not running (created, exited). */
  all?: boolean | undefined;
  /** Also measure each container's `sizeRw` and `sizeRootFs` (`ps -s`; slower: files are walked). */
  size?: boolean | undefined;
}

/** A bind or volume mount of a container, as `containers.inspect` reports it (Docker's `Mounts`). */
export interface ContainerMount {
  /** `bind` (a host path), `volume` (an engine volume) or `tmpfs`. */
  type: 'bind' | 'volume' | 'tmpfs';
  /** The volume's name, for a volume. */
  name?: string | undefined;
  /** Where it is on the engine's host (a volume's mountpoint); empty for a tmpfs. */
  source: string;
  /** The path in the container. */
  destination: string;
  /** Mounted read-only. */
  readOnly: boolean;
}

/** What `containers.inspect` gives. */
export interface ContainerDetails {
  /** The full id. */
  id: string;
  /** Its name (without Docker's leading `/`). */
  name: string;
  /** The image as the user gave it. */
  image: string;
  /** The image id (`sha256:…`), when known. */
  imageId?: string | undefined;
  /** When it was created, RFC 3339. */
  created: string;
  /** Its process state. */
  state: {
    /** The state. */
    status: ContainerState;
    /** True while running or paused. */
    running: boolean;
    /** True while paused. */
    paused: boolean;
    /** The host pid of its first process while it runs. */
    pid?: number | undefined;
    /** The exit code once exited. */
    exitCode?: number | undefined;
    /** When it last started, RFC 3339. */
    startedAt?: string | undefined;
    /** When it last exited, RFC 3339. */
    finishedAt?: string | undefined;
    /** Why it could not start, if it could not. */
    error?: string | undefined;
  };
  /** The process it runs. */
  config: {
    /** The full argument list (entrypoint + command). */
    args: string[];
    /** Its environment. */
    env: string[];
    /** Its working directory. */
    workingDir?: string | undefined;
    /** Its user. */
    user?: string | undefined;
    /** Whether it has a terminal. */
    tty: boolean;
    /** Whether stdin is kept open. */
    openStdin: boolean;
    /** Its host name. */
    hostname?: string | undefined;
    /** Its labels. */
    labels: Record<string, string>;
    /** The signal `stop` sends first. */
    stopSignal?: string | undefined;
    /** Seconds `stop` waits before SIGKILL when the call gives none, when the engine says. */
    stopTimeout?: number | undefined;
  };
  /** Whether it is removed when it exits. */
  autoRemove: boolean;
  /** The OCI runtime it runs under (`runc`), when the engine says. */
  runtime?: string | undefined;
  /** Where the engine keeps its output, when the engine says. */
  logPath?: string | undefined;
  /** Its bind and volume mounts, when the engine says (Docker's `Mounts`). */
  mounts?: ContainerMount[] | undefined;
  /** Its network settings (Docker's `NetworkSettings` and `HostConfig.NetworkMode`). */
  network?:
    | {
        /** `none`, `host`, `bridge` or a network name, as created. */
        mode: string;
        /** Its attachments, by network name. */
        networks: ContainerNetwork[];
        /** Its published ports, as bound (with the host ports the engine picked). */
        ports: PublishedPort[];
        /** Its host name. */
        hostname?: string | undefined;
      }
    | undefined;
  /** The engine's own answer, untouched (`docker inspect`'s JSON, the local engine's record). */
  raw: unknown;
}

/** Options of `containers.start`. */
export type StartOptions = CallOptions;

/** Options of `containers.wait`. */
export interface WaitOptions extends CallOptions {
  /** Wait for `not-running` (default; returns at once when it is not running), `next-exit`, or `removed`. */
  condition?: 'not-running' | 'next-exit' | 'removed' | undefined;
}

/** Options of `containers.stop`. */
export interface StopOptions extends CallOptions {
  /** Seconds between the stop signal and SIGKILL (default: the container's `stopTimeout`, else 10). */
  timeout?: number | undefined;
}

/** Options of `containers.remove`. */
export interface RemoveOptions extends CallOptions {
  /** Kill and remove it even when it runs. */
  force?: boolean | undefined;
  /** Remove its anonymous volumes too (`rm -v`); named volumes are kept. */
  volumes?: boolean | undefined;
}

/** A piece of a container's output. */
export interface OutputChunk {
  /** Which stream it came from (`stdout` for everything on a terminal). */
  stream: 'stdout' | 'stderr';
  /** The bytes. */
  data: Uint8Array;
  /** When it was written, RFC 3339 with nanoseconds, when asked for (`logs --timestamps`). */
  time?: string | undefined;
}

/** Options of `containers.logs`. */
export interface LogsOptions extends CallOptions {
  /** Keep giving output until the container exits (or the signal fires). */
  follow?: boolean | undefined;
  /** Only the last N lines. */
  tail?: number | undefined;
  /** Give each chunk its time. */
  timestamps?: boolean | undefined;
  /** Include stdout (default true). */
  stdout?: boolean | undefined;
  /** Include stderr (default true). */
  stderr?: boolean | undefined;
}

/** Options of `containers.attach`. */
export interface AttachOptions extends CallOptions {
  /** Send input to the container's stdin (it must have been created with `openStdin`). */
  stdin?: boolean | undefined;
  /** Give what it wrote before the attach too (Docker's `logs=1`). */
  logs?: boolean | undefined;
}

/**
 * A live connection to a process's stdio: a container's (`attach`) or an exec'd command's. Output
 * ends when the process exits or {@link Attachment.close} is called.
 */
export interface Attachment {
  /** The output as it comes. */
  output: AsyncIterable<OutputChunk>;
  /** Sends bytes to the process's stdin (when opened with stdin). */
  write(data: Uint8Array | string): Promise<void>;
  /** Closes the process's stdin, as end of input. */
  closeStdin(): Promise<void>;
  /** Tells the engine a new terminal size (tty processes). */
  resize(size: ConsoleSize): Promise<void>;
  /** Detaches: the process runs on. */
  close(): void;
}

/** What `containers.exec` runs. */
export interface ExecSpec {
  /** The command and its arguments. */
  cmd: string[];
  /** Extra environment, `K=V`. */
  env?: string[] | undefined;
  /** The working directory. */
  workingDir?: string | undefined;
  /** `user[:group]`. */
  user?: string | undefined;
  /** Give it a terminal. */
  tty?: boolean | undefined;
  /** The terminal's starting size. */
  consoleSize?: ConsoleSize | undefined;
  /** Keep its stdin open for {@link Attachment.write}. */
  stdin?: boolean | undefined;
  /** Run with extended privileges. */
  privileged?: boolean | undefined;
}

/** Options of `containers.exec`. */
export interface ExecOptions extends CallOptions {
  /**
   * Hand this process's own stdin/stdout/stderr (and terminal) to the command instead of relaying
   * them, when the driver runs the command in this process's reach (the local engine). A driver that
   * honours it returns an {@link ExecProcess} with `inherited: true` and no output; others ignore it
   * and the `Engine` client relays.
   */
  inheritStdio?: boolean | undefined;
}

/** A command running in a container. */
export interface ExecProcess extends Attachment {
  /** Its exit code, once it exits. */
  exitCode: Promise<number>;
  /** True when the driver gave the command this process's own stdio (see {@link ExecOptions.inheritStdio}). */
  inherited: boolean;
}

/** Options of the one-step `containers.run` (create, start, relay output, wait, remove under autoRemove). */
export interface RunOptions extends CreateOptions {
  /** As {@link ExecOptions.inheritStdio}. */
  inheritStdio?: boolean | undefined;
  /** Where output goes when not inherited (default: collected into the result). */
  onOutput?: ((chunk: OutputChunk) => void) | undefined;
  /** Forward the signals this process receives to the container (podman's `--sig-proxy`). */
  proxySignals?: boolean | undefined;
  /** Stdin to feed the container (with `openStdin`). */
  stdin?: AsyncIterable<Uint8Array> | undefined;
}

/** What a foreground run gives. */
export interface RunResult {
  /** The container id (gone already under autoRemove). */
  id: string;
  /** Its exit code. */
  exitCode: number;
}

/** An engine event (`docker events`). */
export interface EngineEvent {
  /** What it is about: `container`, `image`, `volume`, `network`, … */
  type: string;
  /** What happened: `create`, `start`, `die`, `destroy`, `pull`, `tag`, `untag`, `delete`, … */
  action: string;
  /** The object's id (or an image's name). */
  id: string;
  /** When, in milliseconds since the epoch. */
  time: number;
  /** The engine's attributes (`name`, `image`, `exitCode`, …). */
  attributes: Record<string, string>;
}

/** Options of `system.events`. */
export interface EventsOptions extends CallOptions {
  /** Events from this time on (milliseconds since the epoch); default: from now. */
  since?: number | undefined;
  /** Stop at this time (milliseconds since the epoch); default: follow until the signal fires. */
  until?: number | undefined;
}

/** A network of the engine (`docker network inspect`). */
export interface NetworkDetails {
  /** Its name. */
  name: string;
  /** Its id (the name's digest on engines without ids). */
  id: string;
  /** Its driver (`bridge`, `host`, `null`). */
  driver: string;
  /** Its subnets and gateways: IPv4 first, then IPv6 on a dual-stack network. */
  subnets: { subnet: string; gateway?: string | undefined }[];
  /** True when containers get IPv6 addresses too (Docker's `EnableIPv6`, podman's `ipv6_enabled`). */
  ipv6?: boolean | undefined;
  /** True when containers on it cannot reach out (`--internal`). */
  internal: boolean;
  /** Its labels. */
  labels: Record<string, string>;
  /** When it was made, RFC 3339, when the engine says. */
  created?: string | undefined;
  /** The bridge device on the host, when the engine says. */
  interface?: string | undefined;
  /** Containers attached now, by id, when the engine says (`network inspect`). */
  containers?:
    | { id: string; name: string; ipAddress: string; ipv6Address?: string | undefined }[]
    | undefined;
  /** The engine's own answer, untouched. */
  raw: unknown;
}

/** What `networks.create` makes (`docker network create`). */
export interface NetworkSpec {
  /** Its name (letters, digits, `_.-`, first a letter or digit). */
  name: string;
  /** An IPv4 subnet `A.B.C.D/N`; the engine picks a free one when absent. */
  subnet?: string | undefined;
  /** The gateway in that subnet; its first host when absent. */
  gateway?: string | undefined;
  /**
   * Dual-stack (`--ipv6`): containers get an IPv6 address as well, from `subnet6` or from a subnet
   * the engine picks (a unique local /64). Without it, `subnet6` alone makes an IPv6-only network on
   * the local engine (no IPv4 address, as podman 4.3 does; decision 217).
   */
  ipv6?: boolean | undefined;
  /** An IPv6 subnet `ADDR/N`: of a dual-stack network, or alone of an IPv6-only one (see `ipv6`). */
  subnet6?: string | undefined;
  /** The gateway in `subnet6`; its first address after the network's when absent. */
  gateway6?: string | undefined;
  /**
   * More IPv6 subnets after `subnet6` (needs it), each with its gateway or its first address after
   * the network's: containers get an address from each (podman 4.3's several IPv6 `--subnet`).
   */
  moreSubnets6?: { subnet: string; gateway?: string | undefined }[] | undefined;
  /** No route out (`--internal`). */
  internal?: boolean | undefined;
  /** Labels on it. */
  labels?: Record<string, string> | undefined;
}

/** What `networks.connect` attaches. */
export interface NetworkConnectSpec {
  /** A fixed IPv4 address on the network. */
  ipAddress?: string | undefined;
  /** A fixed IPv6 address on a dual-stack network. */
  ip6Address?: string | undefined;
  /** More names the container is reached by on it. */
  aliases?: string[] | undefined;
}

/** Options of `networks.disconnect`. */
export interface NetworkDisconnectOptions extends CallOptions {
  /** Disconnect even when the engine would refuse (Docker's `force`). */
  force?: boolean | undefined;
}

/** What `networks.prune` removed. */
export interface NetworksPruned {
  /** The names of the networks removed. */
  removed: string[];
}

/** One step of an image's history (`docker history`), newest first as engines give it. */
export interface HistoryEntry {
  /** The image id of this step, when the engine knows it (`<missing>` otherwise, as Docker shows). */
  id?: string | undefined;
  /** When the step ran, RFC 3339, when recorded. */
  created?: string | undefined;
  /** The instruction that made it (`/bin/sh -c #(nop) CMD ["sh"]`, `RUN /bin/sh -c make`). */
  createdBy: string;
  /** The size of the layer it made, in bytes (0 for an empty layer). */
  size: number;
  /** Its comment. */
  comment?: string | undefined;
  /** True when the step made no layer. */
  emptyLayer: boolean;
  /** Names tagged on this step's image, when the engine says. */
  tags?: string[] | undefined;
}

/** What `containers.commit` makes (`docker commit`). */
export interface CommitSpec {
  /** The name to tag the new image with (`repo:tag`); untagged when absent. */
  reference?: string | undefined;
  /** Its comment (history `comment`). */
  comment?: string | undefined;
  /** Its author. */
  author?: string | undefined;
  /** Dockerfile instructions applied to the config (`CMD ["sh"]`, `ENV A=1`, `EXPOSE 80`, …). */
  changes?: string[] | undefined;
  /** Freeze the container while committing (default true, as Docker). */
  pause?: boolean | undefined;
  /** `oci` (default for the local engine) or `docker` media types. */
  format?: 'oci' | 'docker' | undefined;
}

/** What `containers.commit` gives. */
export interface CommittedImage {
  /** The new image's id (config digest). */
  id: string;
}

/** A volume of the engine (`docker volume inspect`). */
export interface VolumeDetails {
  /** Its name (64 hex digits for an anonymous one). */
  name: string;
  /** Its driver (`local`). */
  driver: string;
  /** Where its data is on the engine's host. */
  mountpoint: string;
  /** When it was made, RFC 3339. */
  createdAt: string;
  /** Its labels. */
  labels: Record<string, string>;
  /** Its driver options (`type`, `o`, `device`). */
  options: Record<string, string>;
  /** `local`. */
  scope: string;
  /** The engine's own answer, untouched. */
  raw: unknown;
}

/** What `volumes.create` makes. */
export interface VolumeSpec {
  /** Its name (letters, digits, `_.-`, first a letter or digit); the engine makes one up when absent. */
  name?: string | undefined;
  /** Labels on it. */
  labels?: Record<string, string> | undefined;
  /**
   * Options of the `local` driver: `type=tmpfs` (a fresh tmpfs each time it is mounted, `o=size=64m`)
   * or `type=none`/`bind` with `o=bind` and `device=/host/path` (that host directory).
   */
  driverOpts?: Record<string, string> | undefined;
}

/** Options of `volumes.remove`. */
export interface VolumeRemoveOptions extends CallOptions {
  /** Remove it even when stopped containers use it (never one a running container uses, on the local engine). */
  force?: boolean | undefined;
}

/** What `volumes.prune` removed. */
export interface VolumesPruned {
  /** The names of the volumes removed. */
  removed: string[];
  /** Bytes freed, as the engine counts them. */
  spaceReclaimed: number;
}

/**
 * Which containers or images a prune considers (`--filter until=…`, `label=…`, `label!=…` of
 * `docker|podman container|image prune`); each given condition must hold.
 */
export interface PruneFilters {
  /** Only those made before this time, in milliseconds since the epoch. */
  until?: number | undefined;
  /** Only those with every one of these labels: `key` (any value) or `key=value`. */
  labels?: string[] | undefined;
  /** Only those with none of these labels: `key` (any value) or `key=value`. */
  notLabels?: string[] | undefined;
}

/** Options of `containers.prune`. */
export interface ContainerPruneOptions extends CallOptions {
  /** Prune only the containers these select. */
  filters?: PruneFilters | undefined;
}

/** What `containers.prune` removed. */
export interface ContainersPruned {
  /** The ids of the containers removed. */
  removed: string[];
  /** Bytes freed (their writable layers), as the engine counts them. */
  spaceReclaimed: number;
}

/** Options of `images.prune`. */
export interface ImagePruneOptions extends CallOptions {
  /** Every image no container uses, not only dangling (untagged) ones (`prune -a`). */
  all?: boolean | undefined;
  /** Prune only the images these select. */
  filters?: PruneFilters | undefined;
}

/** What `images.prune` removed. */
export interface ImagesPruned {
  /** Names untagged and image ids deleted, as `images.remove` gives them (some engines list deleted layers too). */
  removed: ImageRemoved[];
  /** Bytes freed, as the engine counts them. */
  spaceReclaimed: number;
}

/**
 * The operations a driver may offer, each a function of its input and options. Keys are
 * `area.operation`; a driver that leaves one out makes the `Engine` throw
 * `UnimplementedError` for it.
 */
export interface Handlers {
  /** Answers when the engine is up. */
  'system.ping'(options: CallOptions): Promise<void>;
  /** The engine's version. */
  'system.version'(options: CallOptions): Promise<EngineVersion>;
  /** The engine's state. */
  'system.info'(options: CallOptions): Promise<EngineInfo>;
  /** Events as they happen. */
  'system.events'(options: EventsOptions): AsyncIterable<EngineEvent>;

  /** Pulls an image into the engine. */
  'images.pull'(ref: string, options: PullOptions): Promise<PulledImage>;
  /** Lists images. */
  'images.list'(options: ImageListOptions): Promise<ImageSummary[]>;
  /** One image, by name or id. */
  'images.inspect'(ref: string, options: CallOptions): Promise<ImageDetails>;
  /** Untags or deletes an image. */
  'images.remove'(ref: string, options: ImageRemoveOptions): Promise<ImageRemoved[]>;
  /** Removes dangling images no container uses; with `all`, every image no container uses. */
  'images.prune'(options: ImagePruneOptions): Promise<ImagesPruned>;
  /** Gives an image another name. */
  'images.tag'(source: string, target: string, options: CallOptions): Promise<void>;
  /** Pushes an image to its registry. */
  'images.push'(ref: string, options: PushOptions): Promise<PushedImage>;
  /** Images as a `docker save` archive (docker-archive format) stream. */
  'images.save'(refs: string[], options: CallOptions): AsyncIterable<Uint8Array>;
  /** Loads a `docker save` archive; gives the names (or ids) loaded. */
  'images.load'(archive: AsyncIterable<Uint8Array>, options: LoadOptions): Promise<string[]>;

  /** Makes a container (pulling its image per `options.pull`). */
  'containers.create'(spec: ContainerSpec, options: CreateOptions): Promise<CreatedContainer>;
  /** Starts a created container. */
  'containers.start'(id: string, options: StartOptions): Promise<void>;
  /** Waits for it to exit; gives its exit code. */
  'containers.wait'(id: string, options: WaitOptions): Promise<number>;
  /** Its output, kept by the engine. */
  'containers.logs'(id: string, options: LogsOptions): AsyncIterable<OutputChunk>;
  /** Connects to its stdio while it runs. */
  'containers.attach'(id: string, options: AttachOptions): Promise<Attachment>;
  /** Runs a command in it. */
  'containers.exec'(id: string, spec: ExecSpec, options: ExecOptions): Promise<ExecProcess>;
  /** One container, by id, id prefix or name. */
  'containers.inspect'(id: string, options: CallOptions): Promise<ContainerDetails>;
  /** Lists containers. */
  'containers.list'(options: ContainerListOptions): Promise<ContainerSummary[]>;
  /** Its stop signal, then SIGKILL after the timeout. */
  'containers.stop'(id: string, options: StopOptions): Promise<void>;
  /** Sends it a signal, by name (`SIGTERM`, `TERM`) or number. */
  'containers.kill'(id: string, signal: string | number, options: CallOptions): Promise<void>;
  /** Freezes it. */
  'containers.pause'(id: string, options: CallOptions): Promise<void>;
  /** Thaws it. */
  'containers.unpause'(id: string, options: CallOptions): Promise<void>;
  /** Removes it. */
  'containers.remove'(id: string, options: RemoveOptions): Promise<void>;
  /** Removes every container that is not running or paused (exited, and created but never started). */
  'containers.prune'(options: ContainerPruneOptions): Promise<ContainersPruned>;
  /** Makes a volume (a named one that exists is given back as it is, as Docker does). */
  'volumes.create'(spec: VolumeSpec, options: CallOptions): Promise<VolumeDetails>;
  /** Lists volumes. */
  'volumes.list'(options: CallOptions): Promise<VolumeDetails[]>;
  /** One volume, by name. */
  'volumes.inspect'(name: string, options: CallOptions): Promise<VolumeDetails>;
  /** Removes a volume no container uses (`volume-in-use` otherwise). */
  'volumes.remove'(name: string, options: VolumeRemoveOptions): Promise<void>;
  /** Removes every volume no container uses. */
  'volumes.prune'(options: CallOptions): Promise<VolumesPruned>;

  /** Makes a network. */
  'networks.create'(spec: NetworkSpec, options: CallOptions): Promise<NetworkDetails>;
  /** Lists networks. */
  'networks.list'(options: CallOptions): Promise<NetworkDetails[]>;
  /** One network, by name or id. */
  'networks.inspect'(name: string, options: CallOptions): Promise<NetworkDetails>;
  /** Removes a network no container uses (`network-in-use` otherwise). */
  'networks.remove'(name: string, options: CallOptions): Promise<void>;
  /** Removes every user network no container uses. */
  'networks.prune'(options: CallOptions): Promise<NetworksPruned>;
  /** Attaches a container to a network. */
  'networks.connect'(
    name: string,
    container: string,
    spec: NetworkConnectSpec,
    options: CallOptions,
  ): Promise<void>;
  /** Detaches a container from a network. */
  'networks.disconnect'(name: string, container: string, options: NetworkDisconnectOptions): Promise<void>;
  /** The steps that made an image, newest first. */
  'images.history'(ref: string, options: CallOptions): Promise<HistoryEntry[]>;
  /** Makes an image of a container's changes. */
  'containers.commit'(id: string, spec: CommitSpec, options: CallOptions): Promise<CommittedImage>;

  /** Sets its terminal size. */
  'containers.resize'(id: string, size: ConsoleSize, options: CallOptions): Promise<void>;
  /**
   * Optional one-step foreground run: create, start, relay output, wait, and remove under
   * autoRemove. A driver that can do it faster than the steps (the local engine runs the runtime
   * directly) offers it; the `Engine` composes the steps otherwise.
   */
  'containers.run'(spec: ContainerSpec, options: RunOptions): Promise<RunResult>;
}

/** The name of an operation of the contract (`containers.create`). */
export type Operation = keyof Handlers;

/** A connection to one engine: the handlers it offers, and how to close it. */
export interface Connection {
  /** The operations this engine offers; any may be absent. */
  handlers: Partial<Handlers>;
  /** Releases sockets and other resources; later calls fail. */
  close(): Promise<void>;
}

/** Options of {@link Driver.connect}. */
export interface ConnectOptions extends CallOptions {
  /** Environment to read `DOCKER_*`/`CONTAINER_*` settings from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * A way to reach one kind of engine. `connect` takes an address in the driver's own scheme
 * (`unix:///var/run/docker.sock`, `tcp://host:2375`, `local:/var/lib/ocikit`) and gives a
 * {@link Connection}; it should fail fast with `UnavailableError` (reason `engine-unreachable`) when
 * nothing answers there.
 */
export interface Driver {
  /** The driver's name, used in errors (`docker`, `podman`, `local`). */
  readonly name: string;
  /** Connects to the engine at `address`. */
  connect(address: string, options: ConnectOptions): Promise<Connection>;
}
