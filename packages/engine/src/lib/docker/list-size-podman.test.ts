// containers.list({ size: true }) of the podman driver against a real `podman system service` (its
// compatible API answers SizeRw and SizeRootFs).
import { startPodmanService } from '@ocikit/test-engines';
import { podmanDriver } from '../podman/driver.ts';
import { describeListSize } from './test-list-size.ts';

describeListSize('podman', podmanDriver, () => startPodmanService(), { rootFsHasRw: false });
