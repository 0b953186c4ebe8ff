import { describeFailover } from './describe-failover'

describeFailover('sentinel', 'token', 'ioredis')
