// containers.list({ size: true }) of the docker driver against a real dockerd (Debian's docker.io).
import { startDockerd } from '@ocikit/test-engines';
import { dockerDriver } from './driver.ts';
import { describeListSize } from './test-list-size.ts';

describeListSize('dockerd', dockerDriver, () => startDockerd(), { rootFsHasRw: true });
