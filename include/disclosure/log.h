/*
 * log.h - the one logging vocabulary of the programs (after OpenBSD's
 * log.c).  Lines go to stderr with a "<N>" priority prefix that journald
 * understands (sd-daemon(3)), unless stderr is a terminal.
 * log_warn() appends strerror(errno); log_warnx() does not.
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef DISCLOSURE_LOG_H
#define DISCLOSURE_LOG_H

enum log_level { LOG_LEVEL_ERR = 3, LOG_LEVEL_WARNING = 4, LOG_LEVEL_NOTICE = 5, LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

void log_init(const char *progname, int max_level);
void log_set_level(int max_level);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
