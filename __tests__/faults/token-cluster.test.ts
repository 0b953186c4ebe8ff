// The token middleware's writes under network faults, on a 3-master Redis Cluster with a fault
// proxy in front of each master: see token-faults.ts.
import { describeTokenFaults } from './token-faults'

describeTokenFaults('cluster')
