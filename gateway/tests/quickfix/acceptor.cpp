// A QuickFIX FIX 4.4 acceptor for tickline's gateway tests: an executor that can misbehave.
//
// Built and run by gateway/tests/quickfix_e2e.rs:
//   g++ -std=gnu++14 -O1 -w acceptor.cpp -o acceptor -lquickfix -lpthread
//   acceptor <settings file>
// It validates every message against the FIX 4.4 data dictionary (UseDataDictionary=Y in the
// settings), prints one line per event on stdout (READY, LOGON, LOGOUT, HEARTBEAT <id>, ...)
// and exits when its stdin closes, so a test that dies never leaves it running.
//
// What it does with an order depends on the order's Symbol:
//   FILL    ack, then fill completely
//   PART    ack, fill half, then the rest (two ExecutionReports)
//   REST    ack and rest: cancels are confirmed, replaces applied
//   NOCXL   ack and rest, but cancels and replaces get an OrderCancelReject
//   REJ     refused at session level (IncorrectTagValue on Symbol -> Reject, 373=5)
//   GAP     skip one outbound sequence number, then ack and fill (forces a ResendRequest)
//   DROP    ack and rest, then drop the TCP connection (no Logout)
//   TESTREQ ack and rest, then send a TestRequest (112=ACC-<n>) to the initiator
//
// QuickFIX 1.15 has no setting for the listening address and binds every interface. The
// tests must only listen on 127.0.0.1, so bind() is interposed below: an IPv4 wildcard bind
// from inside this process becomes a loopback bind.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "quickfix/Application.h"
#include "quickfix/FileLog.h"
#include "quickfix/FileStore.h"
#include "quickfix/MessageCracker.h"
#include "quickfix/Session.h"
#include "quickfix/SessionSettings.h"
#include "quickfix/SocketAcceptor.h"
#include "quickfix/fix44/ExecutionReport.h"
#include "quickfix/fix44/Heartbeat.h"
#include "quickfix/fix44/NewOrderSingle.h"
#include "quickfix/fix44/OrderCancelReject.h"
#include "quickfix/fix44/OrderCancelReplaceRequest.h"
#include "quickfix/fix44/OrderCancelRequest.h"
#include "quickfix/fix44/TestRequest.h"

extern "C" int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  if (addr != nullptr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(sockaddr_in)) {
    sockaddr_in a;
    std::memcpy(&a, addr, sizeof(a));
    if (a.sin_addr.s_addr == htonl(INADDR_ANY)) a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return (int)syscall(SYS_bind, fd, (const struct sockaddr*)&a, sizeof(a));
  }
  return (int)syscall(SYS_bind, fd, addr, len);
}

static std::mutex out_mutex;
static void say(const std::string& line) {
  std::lock_guard<std::mutex> g(out_mutex);
  std::cout << line << std::endl;
}

struct Resting {
  std::string symbol;
  char side;
  double qty;
  double cum;
  double price;
  std::string order_id;
};

class Executor : public FIX::Application, public FIX::MessageCracker {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override { say("LOGON"); }
  void onLogout(const FIX::SessionID&) override { say("LOGOUT"); }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}

  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {
    FIX::MsgType type;
    m.getHeader().getField(type);
    FIX::MsgSeqNum seq;
    m.getHeader().getField(seq);
    std::ostringstream line;
    line << "ADMIN " << type.getValue() << " " << seq.getValue();
    say(line.str());
    if (type.getValue() == "0" && m.isSetField(FIX::FIELD::TestReqID)) {
      FIX::TestReqID id;
      m.getField(id);
      say("HEARTBEAT " + id.getValue());
    }
  }

  void fromApp(const FIX::Message& m, const FIX::SessionID& s) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    crack(m, s);
  }

  void onMessage(const FIX44::NewOrderSingle& m, const FIX::SessionID& s) override {
    FIX::ClOrdID cl;
    FIX::Symbol symbol;
    FIX::Side side;
    FIX::OrderQty qty;
    FIX::Price price;
    m.get(cl);
    m.get(symbol);
    m.get(side);
    m.get(qty);
    m.get(price);
    const std::string sym = symbol.getValue();
    say("ORDER " + cl.getValue() + " " + sym);
    if (sym == "REJ") throw FIX::IncorrectTagValue(FIX::FIELD::Symbol);
    FIX::Session* session = FIX::Session::lookupSession(s);
    if (sym == "GAP" && session != nullptr) {
      session->setNextSenderMsgSeqNum(session->getExpectedSenderNum() + 1);
      say("GAPPED");
    }
    Resting r{sym, side.getValue(), qty.getValue(), 0.0, price.getValue(), next_order_id()};
    report(s, cl.getValue(), "", r, FIX::ExecType_NEW, 0.0);
    if (sym == "FILL" || sym == "GAP") {
      r.cum = r.qty;
      report(s, cl.getValue(), "", r, FIX::ExecType_TRADE, r.qty);
    } else if (sym == "PART") {
      double half = (double)(long long)(r.qty / 2);
      if (half <= 0) half = r.qty;
      r.cum = half;
      report(s, cl.getValue(), "", r, FIX::ExecType_TRADE, half);
      if (r.cum < r.qty) {
        double rest = r.qty - r.cum;
        r.cum = r.qty;
        report(s, cl.getValue(), "", r, FIX::ExecType_TRADE, rest);
      }
    } else {
      std::lock_guard<std::mutex> g(orders_mutex);
      orders[cl.getValue()] = r;
    }
    if (sym == "DROP") {
      FIX::SessionID id = s;
      std::thread([id]() {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        FIX::Session* session = FIX::Session::lookupSession(id);
        if (session != nullptr) {
          say("DROPPING");
          session->disconnect();
        }
      }).detach();
    }
    if (sym == "TESTREQ") {
      std::ostringstream id;
      id << "ACC-" << ++test_requests;
      FIX44::TestRequest tr(FIX::TestReqID(id.str()));
      FIX::Session::sendToTarget(tr, s);
      say("TESTREQUEST " + id.str());
    }
  }

  void onMessage(const FIX44::OrderCancelRequest& m, const FIX::SessionID& s) override {
    FIX::ClOrdID cl;
    FIX::OrigClOrdID orig;
    m.get(cl);
    m.get(orig);
    say("CANCEL " + cl.getValue() + " " + orig.getValue());
    std::unique_lock<std::mutex> g(orders_mutex);
    auto it = orders.find(orig.getValue());
    if (it == orders.end() || it->second.symbol == "NOCXL") {
      const bool known = it != orders.end();
      const std::string oid = known ? it->second.order_id : std::string("NONE");
      g.unlock();
      cancel_reject(s, cl.getValue(), orig.getValue(), oid, FIX::CxlRejResponseTo_ORDER_CANCEL_REQUEST,
                    known ? FIX::CxlRejReason_TOO_LATE_TO_CANCEL : FIX::CxlRejReason_UNKNOWN_ORDER);
      return;
    }
    Resting r = it->second;
    orders.erase(it);
    g.unlock();
    report(s, cl.getValue(), orig.getValue(), r, FIX::ExecType_CANCELED, 0.0);
  }

  void onMessage(const FIX44::OrderCancelReplaceRequest& m, const FIX::SessionID& s) override {
    FIX::ClOrdID cl;
    FIX::OrigClOrdID orig;
    FIX::OrderQty qty;
    FIX::Price price;
    m.get(cl);
    m.get(orig);
    m.get(qty);
    m.get(price);
    say("REPLACE " + cl.getValue() + " " + orig.getValue());
    std::unique_lock<std::mutex> g(orders_mutex);
    auto it = orders.find(orig.getValue());
    if (it == orders.end() || it->second.symbol == "NOCXL" || qty.getValue() <= it->second.cum) {
      const std::string oid = it != orders.end() ? it->second.order_id : std::string("NONE");
      g.unlock();
      cancel_reject(s, cl.getValue(), orig.getValue(), oid,
                    FIX::CxlRejResponseTo_ORDER_CANCEL_REPLACE_REQUEST, FIX::CxlRejReason_OTHER);
      return;
    }
    Resting r = it->second;
    orders.erase(it);
    r.qty = qty.getValue();
    r.price = price.getValue();
    orders[cl.getValue()] = r;
    g.unlock();
    report(s, cl.getValue(), orig.getValue(), r, FIX::ExecType_REPLACED, 0.0);
  }

 private:
  std::string next_order_id() {
    std::ostringstream o;
    o << ++order_ids;
    return o.str();
  }

  void report(const FIX::SessionID& s, const std::string& cl, const std::string& orig,
              const Resting& r, char exec_type, double last) {
    char status = FIX::OrdStatus_NEW;
    if (exec_type == FIX::ExecType_CANCELED) status = FIX::OrdStatus_CANCELED;
    else if (r.cum >= r.qty) status = FIX::OrdStatus_FILLED;
    else if (r.cum > 0) status = FIX::OrdStatus_PARTIALLY_FILLED;
    std::ostringstream exec;
    exec << ++exec_ids;
    const double leaves = exec_type == FIX::ExecType_CANCELED ? 0.0 : r.qty - r.cum;
    FIX44::ExecutionReport er(FIX::OrderID(r.order_id), FIX::ExecID(exec.str()),
                              FIX::ExecType(exec_type), FIX::OrdStatus(status), FIX::Side(r.side),
                              FIX::LeavesQty(leaves), FIX::CumQty(r.cum),
                              FIX::AvgPx(r.cum > 0 ? r.price : 0.0));
    er.set(FIX::ClOrdID(cl));
    if (!orig.empty()) er.set(FIX::OrigClOrdID(orig));
    er.set(FIX::Symbol(r.symbol));
    er.set(FIX::OrderQty(r.qty));
    er.set(FIX::Price(r.price));
    if (last > 0) {
      er.set(FIX::LastQty(last));
      er.set(FIX::LastPx(r.price));
    }
    FIX::Session::sendToTarget(er, s);
  }

  void cancel_reject(const FIX::SessionID& s, const std::string& cl, const std::string& orig,
                     const std::string& order_id, char response_to, int reason) {
    FIX44::OrderCancelReject rej(FIX::OrderID(order_id), FIX::ClOrdID(cl), FIX::OrigClOrdID(orig),
                                 FIX::OrdStatus(FIX::OrdStatus_NEW),
                                 FIX::CxlRejResponseTo(response_to));
    rej.set(FIX::CxlRejReason(reason));
    FIX::Session::sendToTarget(rej, s);
  }

  std::mutex orders_mutex;
  std::map<std::string, Resting> orders;
  std::atomic<long> order_ids{0};
  std::atomic<long> exec_ids{0};
  std::atomic<long> test_requests{0};
};

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " SETTINGS" << std::endl;
    return 2;
  }
  try {
    FIX::SessionSettings settings(argv[1]);
    Executor app;
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    FIX::SocketAcceptor acceptor(app, store, settings, log);
    acceptor.start();
    say("READY");
    // Until the test closes our stdin (or dies).
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    acceptor.stop(true);
    return 0;
  } catch (std::exception& e) {
    std::cerr << "acceptor: " << e.what() << std::endl;
    return 1;
  }
}
