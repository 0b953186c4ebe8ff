// The express-session store's writes under network faults, on a single Redis: see store-faults.ts.
import { describeStoreFaults } from './store-faults'

describeStoreFaults('standalone')
