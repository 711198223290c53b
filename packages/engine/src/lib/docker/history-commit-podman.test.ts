// images.history and containers.commit of the podman driver against a real `podman system service`
// (its compatible API answers both).
import { startPodmanService } from '@ocikit/test-engines';
import { podmanDriver } from '../podman/driver.ts';
import { describeHistoryCommit } from './test-history-commit.ts';

describeHistoryCommit('podman', podmanDriver, () => startPodmanService(), { commentInHistory: false });
