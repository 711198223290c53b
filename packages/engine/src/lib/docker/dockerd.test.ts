// The docker driver against a real dockerd (Debian's docker.io, Engine 20.10, API 1.41).
import { startDockerd } from '@ocikit/test-engines';
import { describeDockerDriver } from './test-suite.ts';

describeDockerDriver('dockerd', (insecureRegistries) => startDockerd({ insecureRegistries }));
