// The express-session store's writes under network faults, on a 3-master Redis Cluster with a
// fault proxy in front of each master: see store-faults.ts.
import { describeStoreFaults } from './store-faults'

describeStoreFaults('cluster')
