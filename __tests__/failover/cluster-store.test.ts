import { describeFailover } from './describe-failover'

describeFailover('cluster', 'express-session')
