// The token middleware's writes under network faults, on a single Redis: see token-faults.ts.
import { describeTokenFaults } from './token-faults'

describeTokenFaults('standalone')
