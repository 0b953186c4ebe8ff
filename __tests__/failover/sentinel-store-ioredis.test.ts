import { describeFailover } from './describe-failover'

describeFailover('sentinel', 'express-session', 'ioredis')
