export { createDatabase, isConnectionError, type Database, type DatabaseOptions } from "./database.js";
export { migrateLatest } from "./migrate.js";
export { ensurePartitions, listPartitionDays, maintainPartitions, PARTITIONED_TABLES, type MaintenanceResult, type PartitionedTable } from "./partitions.js";
export { attemptsByDelivery, endpointHistory, eventHistory, type AttemptView, type DeliveryView } from "./history.js";
