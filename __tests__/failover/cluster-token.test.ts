import { describeFailover } from './describe-failover'

describeFailover('cluster', 'token')
