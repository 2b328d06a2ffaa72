//! CPUs, memory, load, uptime, resident set size, and the cgroup limits
//! libuv 1.50 takes into account (memory: v1 and v2; CPU quota: v1 and v2).

use super::*;
use crate::alloc;
use libc::{c_char, c_int, c_uint, c_void, size_t};

// --- small parsers -------------------------------------------------------------

fn skip_ws(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

/// Leading unsigned decimal (after blanks), like sscanf("%llu") on the
/// values these files hold.
fn parse_u64(s: &[u8]) -> Option<u64> {
    let s = skip_ws(s);
    let s = s.strip_prefix(b"+").unwrap_or(s);
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in &s[..digits] {
        v = v.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    Some(v)
}

/// Leading signed decimal, like sscanf("%lld").
fn parse_i64(s: &[u8]) -> Option<i64> {
    let s = skip_ws(s);
    match s.first() {
        Some(b'-') => parse_u64(&s[1..]).map(|v| (v.min(i64::MAX as u64) as i64).wrapping_neg()),
        _ => parse_u64(s).map(|v| v.min(i64::MAX as u64) as i64),
    }
}

/// The first whitespace-separated fields of `s` parsed as floats.
fn parse_f64s<const N: usize>(s: &[u8]) -> Option<[f64; N]> {
    let text = std::str::from_utf8(s).ok()?;
    let mut out = [0.0; N];
    let mut it = text.split_ascii_whitespace();
    for slot in out.iter_mut() {
        *slot = it.next()?.parse().ok()?;
    }
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn first_line(s: &[u8]) -> &[u8] {
    s.split(|&b| b == b'\n').next().unwrap_or(s)
}

fn path(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// --- load, uptime, rss ---------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn uv_loadavg(avg: *mut f64) {
    if avg.is_null() {
        return;
    }
    // SAFETY: uv.h: `avg` (non-NULL) is the caller's double[3], not
    // otherwise accessed during this call.
    let out = unsafe { std::slice::from_raw_parts_mut(avg, 3) };
    if let Some(v) = slurp(b"/proc/loadavg")
        .ok()
        .and_then(|b| parse_f64s::<3>(&b))
    {
        out.copy_from_slice(&v);
        return;
    }
    // SAFETY: sysinfo fills a zeroed struct we own (all-zero is valid).
    let info = unsafe {
        let mut info: libc::sysinfo = std::mem::zeroed();
        if libc::sysinfo(&mut info) < 0 {
            return;
        }
        info
    };
    for (o, l) in out.iter_mut().zip(info.loads) {
        *o = l as f64 / 65536.0;
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_uptime(uptime: *mut f64) -> c_int {
    if uptime.is_null() {
        return UV_EINVAL;
    }
    // /proc/uptime first: CLOCK_BOOTTIME is wrong in some containers.
    if let Some([v]) = slurp(b"/proc/uptime")
        .ok()
        .and_then(|b| parse_f64s::<1>(&b))
    {
        // SAFETY: uv.h: `uptime` (non-NULL) is the caller's out-parameter.
        unsafe { *uptime = v };
        return 0;
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the local `ts`.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
        return neg_errno();
    }
    // SAFETY: uv.h: `uptime` (non-NULL) is the caller's out-parameter.
    unsafe { *uptime = ts.tv_sec as f64 };
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_resident_set_memory(rss: *mut size_t) -> c_int {
    if rss.is_null() {
        return UV_EINVAL;
    }
    let stat = match slurp(b"/proc/self/stat") {
        Ok(b) => b,
        Err(e) => return e,
    };
    // Field 24 (rss, in pages); the command name before it may contain
    // spaces and parentheses, so count from the last ')'.
    let Some(close) = stat.iter().rposition(|&b| b == b')') else {
        return UV_EINVAL;
    };
    let Some(field) = stat[close + 1..].split(|&b| b == b' ').nth(22) else {
        return UV_EINVAL;
    };
    match parse_i64(field) {
        Some(pages) if pages >= 0 => {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as usize;
            // SAFETY: uv.h: `rss` (non-NULL) is the caller's out-parameter.
            unsafe { *rss = (pages as usize).saturating_mul(page) };
            0
        }
        _ => UV_EINVAL,
    }
}

// --- memory ----------------------------------------------------------------------

/// A "Name:   1234 kB" line of /proc/meminfo in bytes; 0 when absent.
fn meminfo(what: &[u8]) -> u64 {
    let Ok(buf) = slurp(b"/proc/meminfo") else {
        return 0;
    };
    find(&buf, what)
        .and_then(|at| parse_u64(&buf[at + what.len()..]))
        .map_or(0, |kb| kb.saturating_mul(1024))
}

#[no_mangle]
pub extern "C" fn uv_get_free_memory() -> u64 {
    let v = meminfo(b"MemAvailable:");
    if v != 0 {
        return v;
    }
    // SAFETY: sysinfo fills a zeroed struct we own.
    unsafe {
        let mut info: libc::sysinfo = std::mem::zeroed();
        if libc::sysinfo(&mut info) == 0 {
            return (info.freeram as u64).saturating_mul(u64::from(info.mem_unit));
        }
    }
    0
}

#[no_mangle]
pub extern "C" fn uv_get_total_memory() -> u64 {
    let v = meminfo(b"MemTotal:");
    if v != 0 {
        return v;
    }
    // SAFETY: sysinfo fills a zeroed struct we own.
    unsafe {
        let mut info: libc::sysinfo = std::mem::zeroed();
        if libc::sysinfo(&mut info) == 0 {
            return (info.totalram as u64).saturating_mul(u64::from(info.mem_unit));
        }
    }
    0
}

/// Where the cgroup file systems are mounted.
const CGROUP_ROOT: &[u8] = b"/sys/fs/cgroup";

/// A cgroup value file: a number, "max" (unlimited), or 0 when unreadable.
fn read_u64(path: &[u8]) -> u64 {
    let Ok(buf) = slurp(path) else {
        return 0;
    };
    match parse_u64(&buf) {
        Some(v) => v,
        None if buf.starts_with(b"max") => u64::MAX,
        None => 0,
    }
}

/// cgroup v2 lists a single "0::/path" line.
fn is_cgroup2(cgroup: &[u8]) -> bool {
    cgroup.starts_with(b"0::/")
}

/// The cgroup v2 path (after "0::/") up to the end of the line.
fn cgroup2_path(cgroup: &[u8]) -> &[u8] {
    first_line(&cgroup[4..])
}

/// The path of the v1 memory controller's line, without its leading '/'.
fn cgroup1_memory_path(cgroup: &[u8]) -> Option<&[u8]> {
    cgroup.split(|&b| b == b'\n').find_map(|line| {
        let mut f = line.splitn(3, |&b| b == b':');
        let _id = f.next()?;
        let ctrl = f.next()?;
        let p = f.next()?;
        (ctrl == b"memory").then(|| p.strip_prefix(b"/").unwrap_or(p))
    })
}

fn cgroup1_memory_limits(root: &[u8], cgroup: &[u8]) -> (u64, u64) {
    let mut limits = (0, 0);
    if let Some(p) = cgroup1_memory_path(cgroup) {
        limits = (
            read_u64(&path(&[
                root,
                b"/memory/",
                p,
                b"/memory.soft_limit_in_bytes",
            ])),
            read_u64(&path(&[root, b"/memory/", p, b"/memory.limit_in_bytes"])),
        );
    }
    // Not mounted where the path says (e.g. inside a container): use the
    // limits of the controller's root.
    if limits.0 == 0 || limits.1 == 0 {
        limits = (
            read_u64(&path(&[root, b"/memory/memory.soft_limit_in_bytes"])),
            read_u64(&path(&[root, b"/memory/memory.limit_in_bytes"])),
        );
    }
    // v1 spells "unlimited" as LONG_MAX rounded down to a page.
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    let v1_max = (i64::MAX as u64) & !(page - 1);
    let fix = |v: u64| if v == v1_max { u64::MAX } else { v };
    (fix(limits.0), fix(limits.1))
}

fn cgroup2_memory_limits(root: &[u8], cgroup: &[u8]) -> (u64, u64) {
    let p = cgroup2_path(cgroup);
    (
        read_u64(&path(&[root, b"/", p, b"/memory.high"])),
        read_u64(&path(&[root, b"/", p, b"/memory.max"])),
    )
}

/// The smaller of the soft and hard limits; 0 when either is unknown.
fn cgroup_constrained_memory(root: &[u8], cgroup: &[u8]) -> u64 {
    let (high, max) = if is_cgroup2(cgroup) {
        cgroup2_memory_limits(root, cgroup)
    } else {
        cgroup1_memory_limits(root, cgroup)
    };
    if high == 0 || max == 0 {
        return 0;
    }
    high.min(max)
}

#[no_mangle]
pub extern "C" fn uv_get_constrained_memory() -> u64 {
    match slurp(b"/proc/self/cgroup") {
        Ok(cg) => cgroup_constrained_memory(CGROUP_ROOT, &cg),
        Err(_) => 0,
    }
}

fn cgroup_current_memory(root: &[u8], cgroup: &[u8]) -> u64 {
    if is_cgroup2(cgroup) {
        return read_u64(&path(&[
            root,
            b"/",
            cgroup2_path(cgroup),
            b"/memory.current",
        ]));
    }
    if let Some(p) = cgroup1_memory_path(cgroup) {
        let v = read_u64(&path(&[root, b"/memory/", p, b"/memory.usage_in_bytes"]));
        if v != 0 {
            return v;
        }
    }
    read_u64(&path(&[root, b"/memory/memory.usage_in_bytes"]))
}

#[no_mangle]
pub extern "C" fn uv_get_available_memory() -> u64 {
    let Ok(cg) = slurp(b"/proc/self/cgroup") else {
        return 0;
    };
    let constrained = cgroup_constrained_memory(CGROUP_ROOT, &cg);
    if constrained == 0 || constrained > uv_get_total_memory() {
        return uv_get_free_memory();
    }
    // Usage can exceed the limit for short bursts.
    constrained.saturating_sub(cgroup_current_memory(CGROUP_ROOT, &cg))
}

// --- CPUs ------------------------------------------------------------------------

/// A CPU quota: `quota` per `period` microseconds, scaled by the relative
/// weight (cpu.weight / 100 in v2, cpu.shares / 1024 in v1), as libuv does.
struct CpuConstraint {
    quota: f64,
    period: f64,
    proportion: f64,
}

fn cgroup2_cpu(root: &[u8], cgroup: &[u8]) -> Option<CpuConstraint> {
    let p = cgroup2_path(cgroup);
    let max = slurp(&path(&[root, b"/", p, b"/cpu.max"])).ok()?;
    let mut f = max
        .split(|b| b.is_ascii_whitespace())
        .filter(|s| !s.is_empty());
    let quota = f.next()?;
    let period = parse_u64(f.next()?)?;
    // "max" is no quota at all.
    let quota = if quota.starts_with(b"max") {
        return None;
    } else {
        parse_i64(quota)?
    };
    let weight = parse_u64(&slurp(&path(&[root, b"/", p, b"/cpu.weight"])).ok()?)?;
    Some(CpuConstraint {
        quota: quota as f64,
        period: period as f64,
        proportion: weight as f64 / 100.0,
    })
}

/// The v1 cpu controller's path, from a line whose controller list holds
/// "cpu" (either "cpu" alone or "cpu,cpuacct").
fn cgroup1_cpu_path(cgroup: &[u8]) -> Option<&[u8]> {
    cgroup.split(|&b| b == b'\n').find_map(|line| {
        let mut f = line.splitn(3, |&b| b == b':');
        let _id = f.next()?;
        let ctrl = f.next()?;
        let p = f.next()?;
        ctrl.split(|&b| b == b',').any(|c| c == b"cpu").then_some(p)
    })
}

fn cgroup1_cpu(root: &[u8], cgroup: &[u8]) -> Option<CpuConstraint> {
    let p = cgroup1_cpu_path(cgroup)?;
    // The controller is mounted at /sys/fs/cgroup/cpu (a link to
    // "cpu,cpuacct" where they are co-mounted); inside a container the
    // listed path may not exist there, and the mount root is the limit.
    let read = |file: &[u8]| -> Option<i64> {
        slurp(&path(&[root, b"/cpu", p, b"/", file]))
            .or_else(|_| slurp(&path(&[root, b"/cpu/", file])))
            .ok()
            .and_then(|b| parse_i64(&b))
    };
    let quota = read(b"cpu.cfs_quota_us")?;
    // -1 is "no quota".
    if quota <= 0 {
        return None;
    }
    let period = read(b"cpu.cfs_period_us")?;
    let shares = read(b"cpu.shares")?;
    Some(CpuConstraint {
        quota: quota as f64,
        period: period as f64,
        proportion: shares as f64 / 1024.0,
    })
}

fn constrained_cpu(root: &[u8], cg: &[u8]) -> Option<CpuConstraint> {
    let c = if is_cgroup2(cg) {
        cgroup2_cpu(root, cg)
    } else {
        cgroup1_cpu(root, cg)
    }?;
    (c.period > 0.0).then_some(c)
}

/// `n` CPUs lowered to what the cgroup quota allows (never below 1).
fn limit_parallelism(mut n: i64, c: Option<CpuConstraint>) -> c_uint {
    if let Some(c) = c {
        let limited = c.quota / c.period * c.proportion;
        if limited < n as f64 {
            n = limited as i64;
        }
    }
    n.clamp(1, i64::from(u32::MAX)) as c_uint
}

#[no_mangle]
pub extern "C" fn uv_available_parallelism() -> c_uint {
    let mut n: i64 = -1;
    // SAFETY: sched_getaffinity fills a zeroed cpu_set_t we own; sysconf
    // has no preconditions.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            let bytes = std::slice::from_raw_parts(
                &set as *const libc::cpu_set_t as *const u8,
                std::mem::size_of::<libc::cpu_set_t>(),
            );
            n = bytes.iter().map(|b| i64::from(b.count_ones())).sum();
        }
        if n < 0 {
            n = libc::sysconf(libc::_SC_NPROCESSORS_ONLN) as i64;
        }
    }
    let c = slurp(b"/proc/self/cgroup")
        .ok()
        .and_then(|cg| constrained_cpu(CGROUP_ROOT, &cg));
    limit_parallelism(n, c)
}

/// Per-CPU times from /proc/stat, in clock ticks.
#[derive(Default, Clone, Copy)]
struct CpuStat {
    id: usize,
    user: u64,
    nice: u64,
    sys: u64,
    idle: u64,
    irq: u64,
}

fn read_proc_stat() -> Result<Vec<CpuStat>, c_int> {
    let buf = slurp(b"/proc/stat")?;
    let mut out = Vec::new();
    // After the aggregate "cpu " line come "cpuN user nice system idle
    // iowait irq ..." lines, until the first line of another kind.
    for line in buf.split(|&b| b == b'\n').skip(1) {
        let Some(rest) = line.strip_prefix(b"cpu") else {
            break;
        };
        let mut f = rest
            .split(|&b| b == b' ')
            .filter(|s| !s.is_empty())
            .map(parse_u64);
        let mut next = || f.next().flatten();
        let (Some(id), Some(user), Some(nice), Some(sys), Some(idle), Some(_iowait), Some(irq)) =
            (next(), next(), next(), next(), next(), next(), next())
        else {
            break;
        };
        out.push(CpuStat {
            id: id as usize,
            user,
            nice,
            sys,
            idle,
            irq,
        });
    }
    Ok(out)
}

#[cfg(target_arch = "aarch64")]
const MODEL_MARKERS: &[&[u8]] = &[b"CPU part\t: "];
#[cfg(target_arch = "arm")]
const MODEL_MARKERS: &[&[u8]] = &[b"model name\t: ", b"Processor\t: "];
#[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
const MODEL_MARKERS: &[&[u8]] = &[b"cpu\t\t: "];
#[cfg(not(any(
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "powerpc",
    target_arch = "powerpc64"
)))]
const MODEL_MARKERS: &[&[u8]] = &[b"model name\t: "];

/// arm64 reports a part number; libuv translates the known ones to a name.
#[cfg(target_arch = "aarch64")]
fn translate_model(raw: &[u8]) -> Vec<u8> {
    const PARTS: &[(&[u8], &[u8])] = &[
        (b"0x811", b"ARM810"),
        (b"0x920", b"ARM920"),
        (b"0x922", b"ARM922"),
        (b"0x926", b"ARM926"),
        (b"0x940", b"ARM940"),
        (b"0x946", b"ARM946"),
        (b"0x966", b"ARM966"),
        (b"0xa20", b"ARM1020"),
        (b"0xa22", b"ARM1022"),
        (b"0xa26", b"ARM1026"),
        (b"0xb02", b"ARM11 MPCore"),
        (b"0xb36", b"ARM1136"),
        (b"0xb56", b"ARM1156"),
        (b"0xb76", b"ARM1176"),
        (b"0xc05", b"Cortex-A5"),
        (b"0xc07", b"Cortex-A7"),
        (b"0xc08", b"Cortex-A8"),
        (b"0xc09", b"Cortex-A9"),
        (b"0xc0d", b"Cortex-A17"),
        (b"0xc0f", b"Cortex-A15"),
        (b"0xc0e", b"Cortex-A17"),
        (b"0xc14", b"Cortex-R4"),
        (b"0xc15", b"Cortex-R5"),
        (b"0xc17", b"Cortex-R7"),
        (b"0xc18", b"Cortex-R8"),
        (b"0xc20", b"Cortex-M0"),
        (b"0xc21", b"Cortex-M1"),
        (b"0xc23", b"Cortex-M3"),
        (b"0xc24", b"Cortex-M4"),
        (b"0xc27", b"Cortex-M7"),
        (b"0xc60", b"Cortex-M0+"),
        (b"0xd01", b"Cortex-A32"),
        (b"0xd03", b"Cortex-A53"),
        (b"0xd04", b"Cortex-A35"),
        (b"0xd05", b"Cortex-A55"),
        (b"0xd06", b"Cortex-A65"),
        (b"0xd07", b"Cortex-A57"),
        (b"0xd08", b"Cortex-A72"),
        (b"0xd09", b"Cortex-A73"),
        (b"0xd0a", b"Cortex-A75"),
        (b"0xd0b", b"Cortex-A76"),
        (b"0xd0c", b"Neoverse-N1"),
        (b"0xd0d", b"Cortex-A77"),
        (b"0xd0e", b"Cortex-A76AE"),
        (b"0xd13", b"Cortex-R52"),
        (b"0xd20", b"Cortex-M23"),
        (b"0xd21", b"Cortex-M33"),
        (b"0xd41", b"Cortex-A78"),
        (b"0xd42", b"Cortex-A78AE"),
        (b"0xd4a", b"Neoverse-E1"),
        (b"0xd4b", b"Cortex-A78C"),
    ];
    PARTS
        .iter()
        .find(|(code, _)| *code == raw)
        .map_or(b"unknown".to_vec(), |(_, name)| name.to_vec())
}

#[cfg(not(target_arch = "aarch64"))]
fn translate_model(raw: &[u8]) -> Vec<u8> {
    raw.to_vec()
}

/// Model name per CPU id from /proc/cpuinfo (blocks separated by blank
/// lines, each starting with "processor\t: N").
fn read_cpu_models() -> Vec<(usize, Vec<u8>)> {
    let Ok(buf) = slurp(b"/proc/cpuinfo") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let text = buf.as_slice();
    for block in text
        .split(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .split(|l| l.is_empty())
    {
        let Some(id) = block
            .first()
            .and_then(|l| l.strip_prefix(b"processor"))
            .and_then(|l| parse_u64(skip_ws(l).strip_prefix(b":")?))
        else {
            continue;
        };
        let model = block
            .iter()
            .find_map(|l| MODEL_MARKERS.iter().find_map(|m| l.strip_prefix(*m)));
        if let Some(m) = model {
            let mut name = translate_model(m);
            // libuv keeps models in 64-byte slots.
            name.truncate(63);
            out.push((id as usize, name));
        }
    }
    out
}

/// One allocation: the array, then the distinct model strings, so that
/// uv_free_cpu_info frees a single pointer (as libuv on Linux does).
#[no_mangle]
pub unsafe extern "C" fn uv_cpu_info(
    cpu_infos: *mut *mut uv_cpu_info_t,
    count: *mut c_int,
) -> c_int {
    if cpu_infos.is_null() || count.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h: the caller's out-parameters (non-NULL checked).
    unsafe {
        *cpu_infos = std::ptr::null_mut();
        *count = 0;
    }
    let mut stats = match read_proc_stat() {
        Ok(s) => s,
        Err(e) => return e,
    };
    stats.sort_by_key(|s| s.id);
    stats.dedup_by_key(|s| s.id);

    let per_cpu = read_cpu_models();
    // Distinct model names; index 0 is the "unknown" fallback.
    let mut models: Vec<Vec<u8>> = vec![b"unknown".to_vec()];
    let model_of: Vec<usize> = stats
        .iter()
        .map(|s| match per_cpu.iter().find(|(id, _)| *id == s.id) {
            Some((_, name)) => match models.iter().position(|m| m == name) {
                Some(i) => i,
                None => {
                    models.push(name.clone());
                    models.len() - 1
                }
            },
            None => 0,
        })
        .collect();

    // Ticks to milliseconds.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ms_per_tick = if hz > 0 {
        (1000 / hz).max(1) as u64
    } else {
        10
    };

    let n = stats.len();
    let array = n * std::mem::size_of::<uv_cpu_info_t>();
    let strings: usize = models.iter().map(|m| m.len() + 1).sum();
    // SAFETY: plain allocation; the result is checked for NULL.
    let block = unsafe { alloc::malloc(array + strings) } as *mut u8;
    if block.is_null() {
        return UV_ENOMEM;
    }
    let mut model_ptrs = Vec::with_capacity(models.len());
    // SAFETY: after the `array` bytes of the block come `strings` bytes,
    // sized for every model name and its NUL.
    unsafe {
        let mut at = block.add(array);
        for m in &models {
            std::ptr::copy_nonoverlapping(m.as_ptr(), at, m.len());
            *at.add(m.len()) = 0;
            model_ptrs.push(at as *mut c_char);
            at = at.add(m.len() + 1);
        }
    }
    let infos = block as *mut uv_cpu_info_t;
    for (i, (s, &mi)) in stats.iter().zip(&model_of).enumerate() {
        let freq_path = format!(
            "/sys/devices/system/cpu/cpu{}/cpufreq/scaling_cur_freq",
            s.id
        );
        // kHz to MHz; 0 where there is no cpufreq (VMs).
        let khz = slurp(freq_path.as_bytes())
            .ok()
            .and_then(|b| parse_u64(&b))
            .unwrap_or(0);
        let info = uv_cpu_info_t {
            model: model_ptrs
                .get(mi)
                .or(model_ptrs.first())
                .copied()
                .unwrap_or(std::ptr::null_mut()),
            speed: (khz / 1000).min(c_int::MAX as u64) as c_int,
            cpu_times: uv_cpu_times_s {
                user: s.user.saturating_mul(ms_per_tick),
                nice: s.nice.saturating_mul(ms_per_tick),
                sys: s.sys.saturating_mul(ms_per_tick),
                idle: s.idle.saturating_mul(ms_per_tick),
                irq: s.irq.saturating_mul(ms_per_tick),
            },
        };
        // SAFETY: i < n, the uv_cpu_info_t slots at the start of the block
        // (malloc's alignment suits them).
        unsafe { infos.add(i).write(info) };
    }
    // SAFETY: the caller's out-parameters (non-NULL checked).
    unsafe {
        *cpu_infos = infos;
        *count = n as c_int;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_free_cpu_info(cpu_infos: *mut uv_cpu_info_t, _count: c_int) {
    // SAFETY: uv.h: `cpu_infos` is NULL or what uv_cpu_info returned, one
    // crate::alloc block holding the array and its strings.
    unsafe { alloc::free(cpu_infos as *mut c_void) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(parse_u64(b"  42 kB"), Some(42));
        assert_eq!(parse_u64(b"max\n"), None);
        assert_eq!(parse_i64(b"-1\n"), Some(-1));
        assert_eq!(
            parse_f64s::<3>(b"0.10 0.20 0.30 1/2 3"),
            Some([0.1, 0.2, 0.3])
        );
        let v1 = b"4:memory:/a/b\n1:cpu:/\n2:cpu,cpuacct:/x\n";
        assert_eq!(cgroup1_memory_path(v1), Some(&b"a/b"[..]));
        assert_eq!(cgroup1_cpu_path(v1), Some(&b"/"[..]));
        assert_eq!(cgroup1_cpu_path(b"2:cpuacct,cpu:/y\n"), Some(&b"/y"[..]));
        assert!(is_cgroup2(b"0::/user.slice\n"));
        assert_eq!(cgroup2_path(b"0::/user.slice\n"), b"user.slice");
    }

    fn write(root: &std::path::Path, rel: &str, content: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("uvring-os-{}-{}", tag, std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn cgroup2_limits() {
        let d = scratch("cg2");
        let root = d.as_os_str().as_encoded_bytes();
        write(&d, "grp/memory.max", "1073741824\n");
        write(&d, "grp/memory.high", "max\n");
        write(&d, "grp/memory.current", "1048576\n");
        write(&d, "grp/cpu.max", "150000 100000\n");
        write(&d, "grp/cpu.weight", "100\n");
        let cg = b"0::/grp\n";
        assert_eq!(cgroup_constrained_memory(root, cg), 1 << 30);
        assert_eq!(cgroup_current_memory(root, cg), 1 << 20);
        assert_eq!(limit_parallelism(4, constrained_cpu(root, cg)), 1);
        write(&d, "grp/cpu.max", "300000 100000\n");
        assert_eq!(limit_parallelism(8, constrained_cpu(root, cg)), 3);
        assert_eq!(limit_parallelism(2, constrained_cpu(root, cg)), 2);
        write(&d, "grp/cpu.max", "max 100000\n");
        assert!(constrained_cpu(root, cg).is_none());
        // No limits at all (the root cgroup has no such files).
        assert_eq!(cgroup_constrained_memory(root, b"0::/\n"), 0);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn cgroup1_limits() {
        let d = scratch("cg1");
        let root = d.as_os_str().as_encoded_bytes();
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
        let v1_max = (i64::MAX as u64) & !(page - 1);
        write(
            &d,
            "memory/grp/memory.soft_limit_in_bytes",
            &format!("{v1_max}\n"),
        );
        write(&d, "memory/grp/memory.limit_in_bytes", "536870912\n");
        write(&d, "memory/grp/memory.usage_in_bytes", "4096\n");
        write(&d, "cpu/grp/cpu.cfs_quota_us", "200000\n");
        write(&d, "cpu/grp/cpu.cfs_period_us", "100000\n");
        write(&d, "cpu/grp/cpu.shares", "1024\n");
        let cg = b"7:cpu,cpuacct:/grp\n5:memory:/grp\n0::/\n";
        assert_eq!(cgroup_constrained_memory(root, cg), 512 << 20);
        assert_eq!(cgroup_current_memory(root, cg), 4096);
        assert_eq!(limit_parallelism(16, constrained_cpu(root, cg)), 2);
        write(&d, "cpu/grp/cpu.cfs_quota_us", "-1\n");
        assert!(constrained_cpu(root, cg).is_none());
        assert_eq!(limit_parallelism(0, None), 1);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn cpus_memory_load() {
        // SAFETY: out-parameters are locals of their true size; the infos
        // read are those uv_cpu_info returned, freed once.
        unsafe {
            let mut infos: *mut uv_cpu_info_t = std::ptr::null_mut();
            let mut n: c_int = 0;
            assert_eq!(uv_cpu_info(&mut infos, &mut n), 0);
            assert!(n >= 1);
            for i in 0..n as usize {
                let ci = &*infos.add(i);
                assert!(!std::ffi::CStr::from_ptr(ci.model).to_bytes().is_empty());
            }
            uv_free_cpu_info(infos, n);

            let par = uv_available_parallelism();
            assert!(par >= 1 && par as usize <= n.max(1) as usize * 64);

            let total = uv_get_total_memory();
            let free = uv_get_free_memory();
            assert!(total > free && free > 0);
            assert!(uv_get_available_memory() <= total);
            let _ = uv_get_constrained_memory();

            let mut avg = [-1.0f64; 3];
            uv_loadavg(avg.as_mut_ptr());
            assert!(avg.iter().all(|&a| a >= 0.0));

            let mut up = 0.0;
            assert_eq!(uv_uptime(&mut up), 0);
            assert!(up > 0.0);

            let mut rss: size_t = 0;
            assert_eq!(uv_resident_set_memory(&mut rss), 0);
            assert!(rss > 0);
        }
    }
}
