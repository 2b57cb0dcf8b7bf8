/**
 * Every name of uWSGI 2.0.21's Python `uwsgi` module and of the seed reference.
 * A vector that calls one of these which the engine does not have yet is
 * reported as skipped ("not built"); any other missing name is uWSGI's AttributeError.
 */
export const UWSGI_MODULE_NAMES: ReadonlySet<string> = new Set(`
SPOOL_IGNORE SPOOL_OK SPOOL_RETRY applications applist buffer_size cores has_threads hostname is_a_reload loop
magic_table numproc opt pidfile queue_size sockets started_on unbit version version_info fastfuncs message_manager_marshal
env add_var async_connect async_sleep async_send_message chunked_read chunked_read_nb cl close connect connection_fd disconnect
embedded_data extract green_schedule suspend is_connected log_this_request offload parsefile ready_fd recv recv_block recv_frame
request_id route send sendfile wait_fd_read wait_fd_write websocket_handshake websocket_recv websocket_recv_nb websocket_send
websocket_send_binary send_message send_multi_message send_multicast_message fcgi
cache_clear cache_dec cache_del cache_div cache_exists cache_get cache_inc cache_keys cache_mul cache_num cache_set cache_update
queue_get queue_last queue_pop queue_pull queue_pull_slot queue_push queue_set queue_slot
lock unlock is_locked
register_signal signal signal_registered signal_received signal_wait add_timer add_rb_timer add_cron add_file_monitor add_probe alarm
mule_id mule_msg mule_get_msg farm_msg farm_get_msg in_farm
register_rpc rpc rpc_list call
worker_id masterpid workers total_requests reload stop ready accepting set_user_harakiri setprocname set_warning_message
listen_queue mem logsize micros log set_logvar get_logvar i_am_the_spooler get_option set_option has_hook sorry_i_need_to_block
metric_dec metric_div metric_get metric_inc metric_mul metric_set metric_set_max metric_set_min
send_to_spooler spool set_spooler_frequency spooler_jobs spooler_pid spooler_pids spooler_get_task spoolers
snmp_set_counter32 snmp_set_counter64 snmp_set_gauge snmp_incr_counter32 snmp_incr_counter64 snmp_incr_gauge
snmp_decr_counter32 snmp_decr_counter64 snmp_decr_gauge snmp_set_community
cluster cluster_best_node cluster_node_name cluster_nodes grunt
erlang_connect erlang_recv_message erlang_register_process erlang_rpc erlang_send_message
`.split(/\s+/).filter(Boolean));
