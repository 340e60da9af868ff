//! Who holds a TCP port we could not listen on: so a first `make run` beside another server
//! says "port 3000 is taken by python3 (pid 4242)" and how to pick another, instead of a bare
//! "address in use". Linux only (`/proc`); elsewhere, or without the right to look, the
//! message names no process.

use std::net::SocketAddr;

/// The process listening on `port` (TCP, IPv4 or IPv6), as (pid, command), if it can be seen.
pub fn listening_process(port: u16) -> Option<(u32, String)> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| listening_inodes(&text, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
        });
        if holds {
            let command = std::fs::read_to_string(entry.path().join("comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|_| "an unknown program".into());
            return Some((pid, command));
        }
    }
    None
}

/// The socket inodes of `/proc/net/tcp`-format lines listening (state `0A`) on `port`.
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            let listening = *fields.get(3)? == "0A";
            let same_port = u16::from_str_radix(local_port, 16).ok()? == port;
            (listening && same_port).then(|| fields.get(9).map(|i| i.to_string()))?
        })
        .collect()
}

/// What a person reads when `addr` is taken: who has it, and how to choose another.
pub fn explain_taken(addr: SocketAddr) -> String {
    let holder = match listening_process(addr.port()) {
        Some((pid, command)) => format!("{command} (pid {pid}) is listening there"),
        None => "another program is listening there".to_string(),
    };
    let mut other = addr;
    other.set_port(addr.port().wrapping_add(1).max(1024));
    format!(
        "cannot listen on {addr}: {holder}. Stop it, or choose another address, e.g. \
         FREIGHTDESK_ADDR={other} (or --addr {other})"
    )
}

#[cfg(test)]
mod tests {
    use super::listening_inodes;

    #[test]
    fn only_listening_sockets_on_the_port_are_taken() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0
   1: 0100007F:0BB8 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0
   2: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 17 1 0";
        assert_eq!(listening_inodes(table, 3000), vec!["4242".to_string()]);
        assert_eq!(listening_inodes(table, 5432), vec!["17".to_string()]);
        assert!(listening_inodes(table, 8080).is_empty());
    }
}
