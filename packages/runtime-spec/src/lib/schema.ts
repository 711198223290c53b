import type { z as Zod } from 'zod';

/**
 * Builds the runtime-spec schemas with zod's `z`. A function, so that zod (40-80 ms to import) loads
 * only when a document is first parsed, not whenever the package is imported (decision 021).
 */
export function buildSchemas(z: typeof Zod) {
  // zod's .int() demands a safe integer; the spec's int64/uint64 fields hold larger values (2^63-1).
  const int = () => z.number().refine(Number.isInteger, 'must be an integer');
  const uint32 = () => int().min(0, 'must not be negative').max(4294967295, 'must fit in 32 bits');
  const uint64 = () => int().min(0, 'must not be negative');
  const int64 = () => int();
  const strings = () => z.array(z.string());
  const stringMap = () => z.record(z.string(), z.string());
  const idMapping = z.looseObject({ containerID: uint32(), hostID: uint32(), size: uint32() });
  const fileMode = () => int().min(0).max(511, 'must be at most 0777 (511)');

  const mount = z.looseObject({
    destination: z.string(),
    source: z.string().optional(),
    type: z.string().optional(),
    options: strings().optional(),
    uidMappings: z.array(idMapping).optional(),
    gidMappings: z.array(idMapping).optional(),
  });

  const hook = z.looseObject({
    path: z.string(),
    args: strings().optional(),
    env: strings().optional(),
    timeout: int().min(1, 'must be at least 1').optional(),
  });
  const hooks = z.looseObject({
    prestart: z.array(hook).optional(),
    createRuntime: z.array(hook).optional(),
    createContainer: z.array(hook).optional(),
    startContainer: z.array(hook).optional(),
    poststart: z.array(hook).optional(),
    poststop: z.array(hook).optional(),
  });

  const schedulerPolicies = [
    'SCHED_OTHER',
    'SCHED_FIFO',
    'SCHED_RR',
    'SCHED_BATCH',
    'SCHED_ISO',
    'SCHED_IDLE',
    'SCHED_DEADLINE',
  ] as const;
  const schedulerFlags = [
    'SCHED_FLAG_RESET_ON_FORK',
    'SCHED_FLAG_RECLAIM',
    'SCHED_FLAG_DL_OVERRUN',
    'SCHED_FLAG_KEEP_POLICY',
    'SCHED_FLAG_KEEP_PARAMS',
    'SCHED_FLAG_UTIL_CLAMP_MIN',
    'SCHED_FLAG_UTIL_CLAMP_MAX',
  ] as const;

  const process = z.looseObject({
    terminal: z.boolean().optional(),
    consoleSize: z.looseObject({ height: uint64(), width: uint64() }).optional(),
    cwd: z.string(),
    env: strings().optional(),
    args: strings().optional(),
    commandLine: z.string().optional(),
    rlimits: z
      .array(
        z.looseObject({
          type: z.string().regex(/^RLIMIT_[A-Z]+$/, 'must look like RLIMIT_NOFILE'),
          soft: uint64(),
          hard: uint64(),
        }),
      )
      .optional(),
    apparmorProfile: z.string().optional(),
    capabilities: z
      .looseObject({
        bounding: strings().optional(),
        permitted: strings().optional(),
        effective: strings().optional(),
        inheritable: strings().optional(),
        ambient: strings().optional(),
      })
      .optional(),
    noNewPrivileges: z.boolean().optional(),
    oomScoreAdj: int().optional(),
    scheduler: z
      .looseObject({
        policy: z.enum(schedulerPolicies),
        nice: int().optional(),
        priority: int().optional(),
        flags: z.array(z.enum(schedulerFlags)).optional(),
        runtime: uint64().optional(),
        deadline: uint64().optional(),
        period: uint64().optional(),
      })
      .optional(),
    selinuxLabel: z.string().optional(),
    ioPriority: z
      .looseObject({
        class: z.enum(['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE']),
        priority: int().optional(),
      })
      .optional(),
    execCPUAffinity: z
      .looseObject({
        initial: z
          .string()
          .regex(/^[0-9, -]*$/, 'must be a CPU list like 0-3,7')
          .optional(),
        final: z
          .string()
          .regex(/^[0-9, -]*$/, 'must be a CPU list like 0-3,7')
          .optional(),
      })
      .optional(),
    user: z
      .looseObject({
        uid: uint32().optional(),
        gid: uint32().optional(),
        umask: uint32().optional(),
        additionalGids: z.array(uint32()).optional(),
        username: z.string().optional(),
      })
      .optional(),
  });

  const deviceCgroup = z.looseObject({
    allow: z.boolean(),
    type: z.string().optional(),
    major: int64().optional(),
    minor: int64().optional(),
    access: z.string().optional(),
  });
  const weightDevice = z.looseObject({
    major: int64(),
    minor: int64(),
    weight: int().optional(),
    leafWeight: int().optional(),
  });
  const throttleDevice = z.looseObject({ major: int64(), minor: int64(), rate: uint64() });

  const resources = z.looseObject({
    devices: z.array(deviceCgroup).optional(),
    memory: z
      .looseObject({
        limit: int64().optional(),
        reservation: int64().optional(),
        swap: int64().optional(),
        kernel: int64().optional(),
        kernelTCP: int64().optional(),
        swappiness: uint64().optional(),
        disableOOMKiller: z.boolean().optional(),
        useHierarchy: z.boolean().optional(),
        checkBeforeUpdate: z.boolean().optional(),
      })
      .optional(),
    cpu: z
      .looseObject({
        shares: uint64().optional(),
        quota: int64().optional(),
        burst: uint64().optional(),
        period: uint64().optional(),
        realtimeRuntime: int64().optional(),
        realtimePeriod: uint64().optional(),
        cpus: z.string().optional(),
        mems: z.string().optional(),
        idle: int64().optional(),
      })
      .optional(),
    pids: z.looseObject({ limit: int64().optional() }).optional(),
    blockIO: z
      .looseObject({
        weight: int().optional(),
        leafWeight: int().optional(),
        weightDevice: z.array(weightDevice).optional(),
        throttleReadBpsDevice: z.array(throttleDevice).optional(),
        throttleWriteBpsDevice: z.array(throttleDevice).optional(),
        throttleReadIOPSDevice: z.array(throttleDevice).optional(),
        throttleWriteIOPSDevice: z.array(throttleDevice).optional(),
      })
      .optional(),
    hugepageLimits: z
      .array(
        z.looseObject({
          pageSize: z.string().regex(/^[1-9][0-9]*[KMG]B$/, 'must look like 2MB'),
          limit: uint64(),
        }),
      )
      .optional(),
    network: z
      .looseObject({
        classID: uint32().optional(),
        priorities: z.array(z.looseObject({ name: z.string(), priority: uint32() })).optional(),
      })
      .optional(),
    rdma: z
      .record(z.string(), z.looseObject({ hcaHandles: uint32().optional(), hcaObjects: uint32().optional() }))
      .optional(),
    unified: stringMap().optional(),
  });

  const seccompOps = [
    'SCMP_CMP_NE',
    'SCMP_CMP_LT',
    'SCMP_CMP_LE',
    'SCMP_CMP_EQ',
    'SCMP_CMP_GE',
    'SCMP_CMP_GT',
    'SCMP_CMP_MASKED_EQ',
  ] as const;

  const linux = z.looseObject({
    namespaces: z
      .array(
        z.looseObject({
          type: z.enum(['mount', 'pid', 'network', 'uts', 'ipc', 'user', 'cgroup', 'time']),
          path: z.string().optional(),
        }),
      )
      .optional(),
    uidMappings: z.array(idMapping).optional(),
    gidMappings: z.array(idMapping).optional(),
    timeOffsets: z
      .record(z.string(), z.looseObject({ secs: int64().optional(), nanosecs: uint32().optional() }))
      .optional(),
    devices: z
      .array(
        z.looseObject({
          type: z.string().regex(/^[cbup]$/, 'must be c, b, u or p'),
          path: z.string(),
          major: int64().optional(),
          minor: int64().optional(),
          fileMode: fileMode().optional(),
          uid: uint32().optional(),
          gid: uint32().optional(),
        }),
      )
      .optional(),
    netDevices: z.record(z.string(), z.looseObject({ name: z.string().optional() })).optional(),
    cgroupsPath: z.string().optional(),
    resources: resources.optional(),
    sysctl: stringMap().optional(),
    seccomp: z
      .looseObject({
        defaultAction: z.string(),
        defaultErrnoRet: uint32().optional(),
        architectures: strings().optional(),
        flags: strings().optional(),
        listenerPath: z.string().optional(),
        listenerMetadata: z.string().optional(),
        syscalls: z
          .array(
            z.looseObject({
              names: strings().min(1, 'needs at least one syscall name'),
              action: z.string(),
              errnoRet: uint32().optional(),
              args: z
                .array(
                  z.looseObject({
                    index: uint32(),
                    value: uint64(),
                    valueTwo: uint64().optional(),
                    op: z.enum(seccompOps),
                  }),
                )
                .optional(),
            }),
          )
          .optional(),
      })
      .optional(),
    rootfsPropagation: z.enum(['private', 'shared', 'slave', 'unbindable']).optional(),
    maskedPaths: strings().optional(),
    readonlyPaths: strings().optional(),
    mountLabel: z.string().optional(),
    personality: z
      .looseObject({ domain: z.enum(['LINUX', 'LINUX32']), flags: strings().optional() })
      .optional(),
    intelRdt: z
      .looseObject({
        closID: z.string().optional(),
        l3CacheSchema: z.string().optional(),
        memBwSchema: z
          .string()
          .regex(/^MB:[^\n]*$/, 'must start with MB:')
          .optional(),
        schemata: strings().optional(),
        enableMonitoring: z.boolean().optional(),
      })
      .optional(),
    memoryPolicy: z
      .looseObject({
        mode: z.enum([
          'MPOL_DEFAULT',
          'MPOL_BIND',
          'MPOL_INTERLEAVE',
          'MPOL_WEIGHTED_INTERLEAVE',
          'MPOL_PREFERRED',
          'MPOL_PREFERRED_MANY',
          'MPOL_LOCAL',
        ]),
        nodes: z.string().optional(),
        flags: strings().optional(),
      })
      .optional(),
  });

  const opt = <T extends Zod.ZodType>(t: T) => t.optional();

  // Upstream's config-solaris.json and config-windows.json: every field OPTIONAL, types checked.
  const solaris = z.looseObject({
    milestone: opt(z.string()),
    limitpriv: opt(z.string()),
    maxShmMemory: opt(z.string()),
    cappedCPU: opt(z.looseObject({ ncpus: opt(z.string()) })),
    cappedMemory: opt(z.looseObject({ physical: opt(z.string()), swap: opt(z.string()) })),
    anet: opt(
      z.array(
        z.looseObject({
          linkname: opt(z.string()),
          lowerLink: opt(z.string()),
          allowedAddress: opt(z.string()),
          configureAllowedAddress: opt(z.string()),
          defrouter: opt(z.string()),
          linkProtection: opt(z.string()),
          macAddress: opt(z.string()),
        }),
      ),
    ),
  });

  const windows = z.looseObject({
    layerFolders: opt(strings()),
    devices: opt(z.array(z.looseObject({ id: z.string(), idType: z.string() }))),
    resources: opt(
      z.looseObject({
        memory: opt(z.looseObject({ limit: opt(uint64()) })),
        cpu: opt(
          z.looseObject({
            count: opt(uint64()),
            shares: opt(int().min(0).max(65535)),
            maximum: opt(int().min(0).max(65535)),
            affinity: opt(z.array(z.unknown())),
          }),
        ),
        storage: opt(z.looseObject({ iops: opt(uint64()), bps: opt(uint64()), sandboxSize: opt(uint64()) })),
      }),
    ),
    credentialSpec: opt(z.unknown()),
    servicing: opt(z.boolean()),
    ignoreFlushesDuringBoot: opt(z.boolean()),
    hyperv: opt(z.looseObject({ utilityVMPath: opt(z.string()) })),
    network: opt(
      z.looseObject({
        endpointList: opt(strings()),
        allowUnqualifiedDNSQuery: opt(z.boolean()),
        DNSSearchList: opt(strings()),
        networkSharedContainerName: opt(z.string()),
        networkNamespace: opt(z.string()),
      }),
    ),
  });

  const zos = z.looseObject({
    namespaces: opt(
      z.array(z.looseObject({ type: z.enum(['pid', 'mount', 'ipc', 'uts']), path: opt(z.string()) })),
    ),
  });

  const freebsd = z.looseObject({
    devices: z.array(z.looseObject({ path: z.string(), mode: fileMode().optional() })).optional(),
    jail: z
      .looseObject({
        parent: z.string().optional(),
        host: z.enum(['new', 'inherit']).optional(),
        ip4: z.enum(['new', 'inherit', 'disable']).optional(),
        ip4Addr: strings().optional(),
        ip6: z.enum(['new', 'inherit', 'disable']).optional(),
        ip6Addr: strings().optional(),
        vnet: z.enum(['new', 'inherit']).optional(),
        interface: z.string().optional(),
        vnetInterfaces: strings().optional(),
        sysvmsg: z.enum(['new', 'inherit', 'disable']).optional(),
        sysvsem: z.enum(['new', 'inherit', 'disable']).optional(),
        sysvshm: z.enum(['new', 'inherit', 'disable']).optional(),
        enforceStatfs: int().optional(),
        allow: z.looseObject({}).optional(),
      })
      .optional(),
  });

  const vmImage = z.looseObject({ path: z.string(), parameters: strings().optional() });

  const specSchema = z.looseObject({
    ociVersion: z.string(),
    root: z.looseObject({ path: z.string(), readonly: z.boolean().optional() }).optional(),
    process: process.optional(),
    hostname: z.string().optional(),
    domainname: z.string().optional(),
    mounts: z.array(mount).optional(),
    hooks: hooks.optional(),
    annotations: stringMap().optional(),
    linux: linux.optional(),
    solaris: solaris.optional(),
    windows: windows.optional(),
    vm: z
      .looseObject({
        hypervisor: vmImage.optional(),
        kernel: z.looseObject({
          path: z.string(),
          parameters: strings().optional(),
          initrd: z.string().optional(),
        }),
        image: z.looseObject({ path: z.string(), format: z.string() }).optional(),
      })
      .optional(),
    zos: zos.optional(),
    freebsd: freebsd.optional(),
  });

  const stateSchema = z.looseObject({
    ociVersion: z.string(),
    id: z.string(),
    status: z.enum(['creating', 'created', 'running', 'stopped']),
    pid: int().min(0, 'must not be negative').optional(),
    bundle: z.string(),
    annotations: stringMap().optional(),
  });

  const featuresSchema = z.looseObject({
    ociVersionMin: z.string(),
    ociVersionMax: z.string(),
    hooks: strings().optional(),
    mountOptions: strings().optional(),
    linux: opt(
      z.looseObject({
        namespaces: opt(strings()),
        capabilities: opt(strings()),
        cgroup: opt(
          z.looseObject({
            v1: opt(z.boolean()),
            v2: opt(z.boolean()),
            systemd: opt(z.boolean()),
            systemdUser: opt(z.boolean()),
            rdma: opt(z.boolean()),
          }),
        ),
        seccomp: opt(
          z.looseObject({
            enabled: opt(z.boolean()),
            actions: opt(strings()),
            operators: opt(strings()),
            archs: opt(strings()),
            knownFlags: opt(strings()),
            supportedFlags: opt(strings()),
          }),
        ),
        apparmor: opt(z.looseObject({ enabled: opt(z.boolean()) })),
        selinux: opt(z.looseObject({ enabled: opt(z.boolean()) })),
        intelRdt: opt(z.looseObject({ enabled: opt(z.boolean()) })),
      }),
    ),
    annotations: stringMap().optional(),
    potentiallyUnsafeConfigAnnotations: strings().optional(),
  });

  return { specSchema, stateSchema, featuresSchema };
}

/** The runtime-spec schemas. */
export type Schemas = ReturnType<typeof buildSchemas>;
