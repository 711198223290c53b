// images.history and containers.commit of the docker driver against a real dockerd (Debian's docker.io).
import { startDockerd } from '@ocikit/test-engines';
import { dockerDriver } from './driver.ts';
import { describeHistoryCommit } from './test-history-commit.ts';

describeHistoryCommit('dockerd', dockerDriver, () => startDockerd(), { commentInHistory: true });
